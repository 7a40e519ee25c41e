// @ts-check
// The page's state, the signed-in client, and the users and members it knows.

/**
 * @typedef {import('./parley-client.js').ParleyClient} ParleyClient
 * @typedef {import('./parley-client.js').ChatView} ChatView
 * @typedef {import('./parley-client.js').MessageView} MessageView
 * @typedef {import('./parley-client.js').UserView} UserView
 * @typedef {import('./parley-client.js').ParleyStream} ParleyStream
 * @typedef {import('./parley-client.js').Role} Role
 * @typedef {import('./parley-client.js').BanView} BanView
 */

/** Where Parley is mounted (the page's own directory): `http://host` or `http://host/chat`. */
export const BASE = new URL('.', location.href).href.replace(/\/$/, '');
export const SESSION_KEY = 'parley.demo.session';
export const RECENT_KEY = 'parley.demo.recent';
export const DEFAULT_USERS = ['alice', 'bob', 'carol'];
/** The emoji the message menu offers. */
export const QUICK_EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '🙏'];
/** Messages a history page brings: the newest on opening, older ones as the list is scrolled up. */
export const PAGE_SIZE = 50;
export const state = {
  /** @type {ParleyClient | null} */
  client: null,
  /** @type {ParleyStream | null} */
  stream: null,
  /** @type {UserView | null} */
  me: null,
  /** @type {Map<string, ChatView>} */
  chats: new Map(),
  /** @type {Map<string, string[]>} chat id → member user ids */
  members: new Map(),
  /** @type {Map<string, Map<string, Role>>} chat id → member user id → role */
  roles: new Map(),
  /** @type {Map<string, UserView>} */
  users: new Map(),
  /** @type {string | null} */
  open: null,
  /** @type {Map<number, HTMLLIElement>} the open chat's messages on screen, by seq */
  shown: new Map(),
  /** @type {Map<number, MessageView>} the open chat's messages loaded, by seq (with replies' quoted messages) */
  messages: new Map(),
  /** The open chat's history on screen runs up to its newest message (a search hit opens it in the middle). */
  atEnd: true,
  /** A history page is being loaded. */
  paging: false,
  /** @type {{ kind: 'reply' | 'edit', seq: number } | null} what the composer's text does */
  composing: null,
  /** The signed-in user is a tenant administrator (their token's roles): the page offers the reports. */
  admin: false,
  /** @type {number | null} the message whose menu is open */
  menuSeq: null,
  /** @type {'chat' | 'thread'} where that message's menu was opened: the history or the thread panel */
  menuWhere: /** @type {'chat' | 'thread'} */ ('chat'),
  /** @type {Map<string, Map<string, number>>} chat id → user id → when their typing indicator ends */
  typing: new Map(),
  /** @type {MessageView[]} the open chat's pinned messages, newest pin first */
  pins: [],
  /** @type {Map<string, number>} the open chat's other members → how far they have read (known from receipts) */
  readers: new Map(),
  /** @type {Map<string, Map<string, string | null>>} chat id → muted member → when the mute ends (null: never) */
  mutes: new Map(),
  /** @type {Map<string, BanView[]>} chat id → its bans (read by its moderators) */
  bans: new Map(),
  /** @type {Set<string>} the users you block */
  blocks: new Set(),
};

export function client() {
  if (!state.client) {
    throw new Error('not signed in');
  }
  return state.client;
}

/** @param {string[]} ids */
export async function loadUsers(ids) {
  const missing = [...new Set(ids)].filter((id) => !state.users.has(id));
  const users = await Promise.all(
    missing.map((id) =>
      client()
        .getUser(id)
        .catch(() => null),
    ),
  );
  for (const user of users) {
    if (user) {
      state.users.set(user.id, user);
    }
  }
}

/**
 * Fetches users again, for what changes without an event to others (their status message).
 * @param {string[]} ids
 */
export async function refreshUsers(ids) {
  for (const id of ids) {
    state.users.delete(id);
  }
  await loadUsers(ids);
}

/** @param {string} chatId */
export async function loadMembers(chatId) {
  const page = await client().listMembers(chatId, { limit: 200 });
  const ids = page.data.map((member) => member.userId);
  state.members.set(chatId, ids);
  state.roles.set(chatId, new Map(page.data.map((member) => [member.userId, member.role])));
  await loadUsers(ids);
}

/**
 * The caller's role in a chat.
 * @param {string} chatId
 * @returns {Role | null}
 */
export function myRole(chatId) {
  const id = state.me?.id ?? '';
  return state.roles.get(chatId)?.get(id) ?? state.chats.get(chatId)?.role ?? null;
}

/** A user's presence and status message, as a line. @param {string} userId */
export function statusLine(userId) {
  const user = state.users.get(userId);
  const presence = user?.status ?? 'offline';
  return user?.statusText ? `${presence} · ${user.statusText}` : presence;
}
