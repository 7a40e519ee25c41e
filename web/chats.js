// @ts-check
// The chat list in the sidebar, and the unread count in the tab's title.
import { el, ui } from './dom.js';
import { openChat } from './history.js';
import { mentionCounts, loadMentionCounts } from './mentions.js';
import { clockOf, nameOf, plural, paintAvatar, otherMember, titleOf, timeOf } from './names.js';
import { setThreadUnread } from './thread-line.js';
import { state, client, loadUsers, loadMembers } from './state.js';

/**
 * @typedef {import('./parley-client.js').ChatView} ChatView
 */

export async function loadChats() {
  const [active, archived, unread] = await Promise.all([
    // With the hidden ones: the page keeps them out of the list until their next message brings them back.
    client().listChats({ limit: 200, includeHidden: true }),
    client().listChats({ limit: 200, archived: true, includeHidden: true }),
    loadMentionCounts(),
  ]);
  setThreadUnread(unread.threads);
  const page = { data: [...active.data, ...archived.data] };
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

/** The unread count in the tab's title: "(3) Parley" (muted and archived chats left out). */
export function renderTitle() {
  const total = [...state.chats.values()]
    .filter((chat) => !chat.settings?.muted && !chat.settings?.archived && !chat.settings?.hidden)
    .reduce((sum, chat) => sum + chat.unreadCount, 0);
  document.title = total > 0 ? `(${total}) Parley` : 'Parley';
}

export function renderChats() {
  renderTitle();
  const chats = [...state.chats.values()]
    .filter((chat) => !chat.settings?.hidden || chat.id === state.open)
    .sort((a, b) => activityOf(b).localeCompare(activityOf(a)));
  if (chats.length === 0) {
    ui.chatList.replaceChildren(el('li', { class: 'search-results none' }, ['No chats yet: start one.']));
    return;
  }
  const archived = chats.filter((chat) => chat.settings?.archived);
  ui.chatList.replaceChildren(
    ...chats.filter((chat) => !chat.settings?.archived).map(itemOf),
    ...(archived.length
      ? [el('li', { class: 'list-section', role: 'presentation' }, ['Archived']), ...archived.map(itemOf)]
      : []),
  );
}

/** A chat in the list. @param {ChatView} chat */
function itemOf(chat) {
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
  const mentions = chat.id === state.open ? 0 : (mentionCounts.get(chat.id) ?? 0);
  const muted = chat.settings?.muted ?? false;
  const button = el(
    'button',
    {
      type: 'button',
      class: `chat-item${unread ? ' unread' : ''}${muted ? ' muted-chat' : ''}${chat.settings?.archived ? ' archived' : ''}`,
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
        el('span', { class: 'when' }, [
          muted
            ? el(
                'span',
                {
                  class: 'muted-icon',
                  'aria-label': 'muted',
                  title: chat.settings?.mutedUntil
                    ? `Muted until ${clockOf(chat.settings.mutedUntil)}`
                    : 'Muted',
                },
                ['🔕'],
              )
            : null,
          timeOf(activityOf(chat)),
        ]),
        el('span', { class: 'badges' }, [
          mentions > 0
            ? el('span', { class: 'badge mention-badge', 'aria-label': `${mentions} unread mentions` }, ['@'])
            : null,
          unread ? el('span', { class: 'badge', 'aria-label': 'unread' }, [String(chat.unreadCount)]) : null,
        ]),
      ]),
    ],
  );
  button.addEventListener('click', () => void openChat(chat.id));
  return el('li', {}, [button]);
}
