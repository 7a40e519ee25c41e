// @ts-check
// The new chat dialog: a direct chat or a group.
import { el, ui } from './dom.js';
import { openChat } from './history.js';
import { nameOf, paintAvatar } from './names.js';
import { state, client } from './state.js';

ui.newChat.addEventListener('click', () => {
  ui.userSearch.value = '';
  ui.groupName.value = '';
  ui.dialogError.textContent = '';
  ui.dialog.showModal();
  void listPeople('');
});
ui.dialogCancel.addEventListener('click', () => ui.dialog.close());

let peopleTimer = 0;
ui.userSearch.addEventListener('input', () => {
  clearTimeout(peopleTimer);
  peopleTimer = window.setTimeout(() => void listPeople(ui.userSearch.value.trim()), 150);
});

/** @param {string} q */
export async function listPeople(q) {
  const checked = new Set(
    [...ui.userPicker.querySelectorAll('input:checked')].map(
      (input) => /** @type {HTMLInputElement} */ (input).value,
    ),
  );
  const page = await client().listUsers(q ? { q, limit: 50 } : { limit: 50 });
  const people = page.data.filter((user) => user.id !== state.me?.id);
  for (const user of people) {
    state.users.set(user.id, user);
  }
  ui.userPicker.replaceChildren(
    ...people.map((user) => {
      const box = el('input', { type: 'checkbox', value: user.id, name: 'member' });
      box.checked = checked.has(user.id);
      const label = user.displayName ?? user.username;
      return el('li', {}, [
        el('label', {}, [
          box,
          paintAvatar(el('span', { class: 'avatar' }), label, user.id),
          el('span', {}, [label, ' ', el('small', { class: 'muted' }, [`@${user.username}`])]),
        ]),
      ]);
    }),
  );
  if (people.length === 0) {
    ui.userPicker.replaceChildren(
      el('li', { class: 'muted' }, ['Nobody else yet: sign in as someone in another window.']),
    );
  }
}

ui.dialogForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const members = [...ui.userPicker.querySelectorAll('input:checked')].map(
    (input) => /** @type {HTMLInputElement} */ (input).value,
  );
  const name = ui.groupName.value.trim();
  if (members.length === 0) {
    ui.dialogError.textContent = 'Pick at least one person.';
    return;
  }
  try {
    const chat =
      members.length === 1 && name === ''
        ? await client().createChat({ kind: 'direct', members })
        : await client().createChat({ kind: 'group', name: name || members.map(nameOf).join(', '), members });
    state.chats.set(chat.id, chat);
    state.stream?.follow(chat.id, 0);
    ui.dialog.close();
    await openChat(chat.id);
  } catch (error) {
    ui.dialogError.textContent = error instanceof Error ? error.message : String(error);
  }
});
