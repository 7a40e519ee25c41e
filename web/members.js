// @ts-check
// A group's members: add, remove, roles, leave; mute and ban (moderation.js).
import { el, ui } from './dom.js';
import { membersChanged, forget } from './live.js';
import { loadModeration, moderationControls, mutedTag, renderBans } from './moderation.js';
import { nameOf, plural, paintAvatar, titleOf } from './names.js';
import { state, client, loadMembers, myRole, statusLine } from './state.js';

/**
 * @typedef {import('./parley-client.js').Role} Role
 */

/** @type {Record<Role, string>} */
export const ROLE_NAMES = { owner: 'Owner', admin: 'Admin', member: 'Member' };

ui.membersOpen.addEventListener('click', async () => {
  const chatId = state.open;
  if (!chatId) {
    return;
  }
  ui.groupError.textContent = '';
  ui.groupAddSearch.value = '';
  await loadMembers(chatId);
  await loadModeration(chatId);
  renderGroup();
  ui.groupDialog.showModal();
  void listCandidates('');
});
ui.groupClose.addEventListener('click', () => ui.groupDialog.close());

/**
 * Runs a change to the group, showing the API's refusal in the dialog.
 * @param {() => Promise<unknown>} change
 */
export async function groupChange(change) {
  ui.groupError.textContent = '';
  const chatId = state.open;
  try {
    await change();
    if (chatId && state.chats.has(chatId)) {
      await membersChanged(chatId);
      renderGroup();
    }
  } catch (error) {
    ui.groupError.textContent = error instanceof Error ? error.message : String(error);
  }
}

/**
 * The member list, with what the caller may do to each: owners set roles, mute, ban and remove anyone, admins plain
 * members; a muted member is tagged "muted" (known to moderators from the log, to others from the stream).
 */
export function renderGroup() {
  const chatId = state.open;
  const chat = chatId ? state.chats.get(chatId) : null;
  if (!chatId || !chat) {
    return;
  }
  /** @type {Map<string, Role>} */
  const roles = state.roles.get(chatId) ?? new Map();
  const mine = myRole(chatId);
  const order = { owner: 0, admin: 1, member: 2 };
  const members = [...roles].sort(
    ([a, ra], [b, rb]) => order[ra] - order[rb] || nameOf(a).localeCompare(nameOf(b)),
  );
  ui.groupTitle.textContent = `${titleOf(chat)}: ${plural(members.length, 'member')}`;
  ui.groupMembers.replaceChildren(
    ...members.map(([userId, role]) => {
      const self = userId === state.me?.id;
      const name = nameOf(userId);
      /** @type {HTMLElement} */
      let roleControl = el('span', { class: 'role' }, [ROLE_NAMES[role]]);
      if (mine === 'owner' && !self) {
        const select = el('select', { 'aria-label': `Role of ${name}` });
        for (const option of /** @type {Role[]} */ (['owner', 'admin', 'member'])) {
          const item = el('option', { value: option }, [ROLE_NAMES[option]]);
          item.selected = option === role;
          select.append(item);
        }
        select.addEventListener('change', () => {
          const next = /** @type {Role} */ (select.value);
          void groupChange(() => client().updateMember(chatId, userId, { role: next }));
        });
        roleControl = select;
      }
      const removable = !self && (mine === 'owner' || (mine === 'admin' && role === 'member'));
      const remove = removable
        ? el('button', { type: 'button', class: 'ghost danger', 'aria-label': `Remove ${name}` }, ['Remove'])
        : null;
      remove?.addEventListener('click', () => void groupChange(() => client().removeMember(chatId, userId)));
      return el('li', { 'data-user-id': userId }, [
        paintAvatar(el('span', { class: 'avatar' }), name, userId),
        el('span', { class: 'who' }, [
          el('span', {}, [self ? `${name} (you)` : name, ' ', mutedTag(chatId, userId)]),
          el('small', { class: 'muted' }, [statusLine(userId)]),
        ]),
        roleControl,
        moderationControls(chatId, userId, role, groupChange),
        remove,
      ]);
    }),
  );
  renderBans(groupChange);
  const canAdd = mine === 'owner' || mine === 'admin';
  ui.groupAddSearch.closest('label')?.toggleAttribute('hidden', !canAdd);
  ui.groupCandidates.hidden = !canAdd;
}

let candidatesTimer = 0;
ui.groupAddSearch.addEventListener('input', () => {
  clearTimeout(candidatesTimer);
  candidatesTimer = window.setTimeout(() => void listCandidates(ui.groupAddSearch.value.trim()), 150);
});

/** People not in the open group yet, each with an Add button. @param {string} q */
export async function listCandidates(q) {
  const chatId = state.open;
  if (!chatId) {
    return;
  }
  const page = await client().listUsers(q ? { q, limit: 20 } : { limit: 20 });
  const members = new Set(state.members.get(chatId) ?? []);
  const people = page.data.filter((user) => !members.has(user.id));
  for (const user of people) {
    state.users.set(user.id, user);
  }
  ui.groupCandidates.replaceChildren(
    ...people.map((user) => {
      const name = user.displayName ?? user.username;
      const add = el('button', { type: 'button', class: 'ghost', 'aria-label': `Add ${name}` }, ['Add']);
      add.addEventListener('click', async () => {
        await groupChange(() => client().addMember(chatId, { userId: user.id }));
        await listCandidates(ui.groupAddSearch.value.trim());
      });
      return el('li', {}, [
        paintAvatar(el('span', { class: 'avatar' }), name, user.id),
        el('span', { class: 'who' }, [name, ' ', el('small', { class: 'muted' }, [`@${user.username}`])]),
        add,
      ]);
    }),
  );
  if (people.length === 0) {
    ui.groupCandidates.replaceChildren(el('li', { class: 'muted' }, ['Nobody else to add.']));
  }
}

ui.groupLeave.addEventListener('click', async () => {
  const chatId = state.open;
  if (!chatId || !confirm('Leave this group?')) {
    return;
  }
  try {
    await client().removeMember(chatId, state.me?.id ?? '');
    ui.groupDialog.close();
    forget(chatId);
  } catch (error) {
    ui.groupError.textContent = error instanceof Error ? error.message : String(error);
  }
});
