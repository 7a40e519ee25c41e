// @ts-check
// The chat list in the sidebar, and the unread count in the tab's title.
import { el, ui } from './dom.js';
import { openChat } from './history.js';
import { nameOf, plural, paintAvatar, otherMember, titleOf, timeOf } from './names.js';
import { state, client, loadUsers, loadMembers } from './state.js';

/**
 * @typedef {import('./parley-client.js').ChatView} ChatView
 */

export async function loadChats() {
  const page = await client().listChats({ limit: 200 });
  state.chats = new Map(page.data.map((chat) => [chat.id, chat]));
  await Promise.all(page.data.filter((chat) => chat.kind === 'direct').map((chat) => loadMembers(chat.id)));
  const authors = page.data.flatMap((chat) => (chat.lastMessage ? [chat.lastMessage.authorId] : []));
  await loadUsers(authors);
  renderChats();
}

/**
 * "You: " for your own messages, the author's name in groups, nothing in a direct chat.
 * @param {ChatView} chat
 * @param {string} authorId
 */
export function authorPrefix(chat, authorId) {
  if (authorId === state.me?.id) {
    return 'You: ';
  }
  return chat.kind === 'group' ? `${nameOf(authorId)}: ` : '';
}

/** @param {ChatView} chat */
export function activityOf(chat) {
  return chat.lastMessageAt ?? chat.createdAt;
}

/** @param {string} chatId */
export function typistsIn(chatId) {
  const now = Date.now();
  return [...(state.typing.get(chatId) ?? new Map())].filter(([, until]) => until > now).map(([id]) => id);
}

/** The unread count in the tab's title: "(3) Parley". */
export function renderTitle() {
  const total = [...state.chats.values()].reduce((sum, chat) => sum + chat.unreadCount, 0);
  document.title = total > 0 ? `(${total}) Parley` : 'Parley';
}

export function renderChats() {
  renderTitle();
  const chats = [...state.chats.values()].sort((a, b) => activityOf(b).localeCompare(activityOf(a)));
  if (chats.length === 0) {
    ui.chatList.replaceChildren(el('li', { class: 'search-results none' }, ['No chats yet: start one.']));
    return;
  }
  ui.chatList.replaceChildren(
    ...chats.map((chat) => {
      const typists = typistsIn(chat.id);
      const last = chat.lastMessage;
      const preview = typists.length
        ? `${typists.map(nameOf).join(', ')} typing…`
        : last
          ? `${authorPrefix(chat, last.authorId)}${last.text ?? 'message deleted'}`
          : chat.kind === 'group'
            ? plural(chat.memberCount, 'member')
            : 'No messages yet';
      const unread = chat.unreadCount > 0 && chat.id !== state.open;
      const button = el(
        'button',
        {
          type: 'button',
          class: `chat-item${unread ? ' unread' : ''}`,
          'data-chat-id': chat.id,
          'aria-current': String(chat.id === state.open),
        },
        [
          paintAvatar(
            el('span', { class: 'avatar' }),
            titleOf(chat),
            chat.kind === 'direct' ? otherMember(chat) : null,
          ),
          el('span', {}, [
            el('span', { class: 'title' }, [titleOf(chat)]),
            el('span', { class: `preview${typists.length ? ' typing-now' : ''}` }, [preview]),
          ]),
          el('span', { class: 'meta' }, [
            timeOf(activityOf(chat)),
            unread
              ? el('span', { class: 'badge', 'aria-label': 'unread' }, [String(chat.unreadCount)])
              : null,
          ]),
        ],
      );
      button.addEventListener('click', () => void openChat(chat.id));
      return el('li', {}, [button]);
    }),
  );
}
