// @ts-check
// Message search in the sidebar.
import { el, ui } from './dom.js';
import { openChat } from './history.js';
import { nameOf, titleOf, timeOf } from './names.js';
import { state, client, loadUsers } from './state.js';

/**
 * The server's highlight is HTML-escaped text with <mark> around matches: rebuilt as text and <mark> nodes only.
 * @param {string} highlight
 */
export function highlighted(highlight) {
  const parsed = new DOMParser().parseFromString(`<p>${highlight}</p>`, 'text/html');
  const nodes = [...(parsed.body.firstElementChild?.childNodes ?? [])];
  return el(
    'span',
    {},
    nodes.map((node) =>
      node.nodeName === 'MARK' ? el('mark', {}, [node.textContent ?? '']) : (node.textContent ?? ''),
    ),
  );
}

let searchTimer = 0;
ui.search.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = window.setTimeout(() => void search(ui.search.value.trim()), 200);
});
ui.search.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') {
    ui.search.value = '';
    void search('');
  }
});

/** @param {string} q */
export async function search(q) {
  ui.searchResults.hidden = q === '';
  ui.chatList.hidden = q !== '';
  if (q === '') {
    return;
  }
  const page = await client().searchMessages({ q, limit: 30 });
  if (ui.search.value.trim() !== q) {
    return;
  }
  await loadUsers(page.data.map((hit) => hit.message.authorId));
  if (page.data.length === 0) {
    ui.searchResults.replaceChildren(el('li', { class: 'none' }, [`Nothing matches “${q}”.`]));
    return;
  }
  ui.searchResults.replaceChildren(
    ...page.data.map((hit) => {
      const chat = state.chats.get(hit.message.chatId);
      const button = el('button', { type: 'button', class: 'search-hit' }, [
        el('span', { class: 'where' }, [
          [
            chat ? titleOf(chat) : 'Chat',
            hit.message.authorId === state.me?.id ? 'You' : nameOf(hit.message.authorId),
            timeOf(hit.message.createdAt),
          ]
            .filter((part, i, parts) => parts.indexOf(part) === i)
            .join(' · '),
        ]),
        highlighted(hit.highlight),
      ]);
      button.addEventListener('click', () => {
        ui.search.value = '';
        void search('');
        void openChat(hit.message.chatId, hit.message.seq);
      });
      return el('li', {}, [button]);
    }),
  );
}
