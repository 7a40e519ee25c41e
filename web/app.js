// @ts-check
// The demo chat page: plain ES modules over the typed client, which the server bundles as ./parley-client.js.
import { ParleyClient, ParleyError } from './parley-client.js';

/**
 * @typedef {import('./parley-client.js').ChatView} ChatView
 * @typedef {import('./parley-client.js').MessageView} MessageView
 * @typedef {import('./parley-client.js').UserView} UserView
 * @typedef {import('./parley-client.js').ParleyStream} ParleyStream
 * @typedef {import('./parley-client.js').ReactionView} ReactionView
 * @typedef {import('./parley-client.js').Role} Role
 * @typedef {import('./parley-client.js').UserStatus} UserStatus
 */

/** Where Parley is mounted (the page's own directory): `http://host` or `http://host/chat`. */
const BASE = new URL('.', location.href).href.replace(/\/$/, '');
const SESSION_KEY = 'parley.demo.session';
const RECENT_KEY = 'parley.demo.recent';
const DEFAULT_USERS = ['alice', 'bob', 'carol'];
/** The emoji the message menu offers. */
const QUICK_EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '🙏'];
/** Messages a history page brings: the newest on opening, older ones as the list is scrolled up. */
const PAGE_SIZE = 50;

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
function $(id, type) {
  const element = document.getElementById(id);
  if (!(element instanceof type)) {
    throw new Error(`#${id} is missing`);
  }
  return element;
}

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string>} [attributes]
 * @param {(Node | string | null)[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
function el(tag, attributes = {}, children = []) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'class') {
      element.className = value;
    } else {
      element.setAttribute(name, value);
    }
  }
  for (const child of children) {
    if (child !== null) {
      element.append(child);
    }
  }
  return element;
}

const ui = {
  signin: $('signin', HTMLElement),
  signinForm: $('signin-form', HTMLFormElement),
  signinUser: $('signin-user', HTMLInputElement),
  signinTokenRow: $('signin-token-row', HTMLLabelElement),
  signinToken: $('signin-token', HTMLTextAreaElement),
  signinError: $('signin-error', HTMLParagraphElement),
  quickUsers: $('quick-users', HTMLDivElement),
  app: $('app', HTMLDivElement),
  profileOpen: $('profile-open', HTMLButtonElement),
  meAvatar: $('me-avatar', HTMLSpanElement),
  meName: $('me-name', HTMLElement),
  meId: $('me-id', HTMLElement),
  signout: $('signout', HTMLButtonElement),
  search: $('search', HTMLInputElement),
  newChat: $('new-chat', HTMLButtonElement),
  chatList: $('chat-list', HTMLUListElement),
  searchResults: $('search-results', HTMLUListElement),
  connectionDot: $('connection-dot', HTMLSpanElement),
  connectionText: $('connection-text', HTMLSpanElement),
  empty: $('empty', HTMLDivElement),
  chatHead: $('chat-head', HTMLElement),
  back: $('back', HTMLButtonElement),
  membersOpen: $('members-open', HTMLButtonElement),
  chatAvatar: $('chat-avatar', HTMLSpanElement),
  chatTitle: $('chat-title', HTMLHeadingElement),
  chatSubtitle: $('chat-subtitle', HTMLElement),
  messages: $('messages', HTMLOListElement),
  typing: $('typing', HTMLParagraphElement),
  composerContext: $('composer-context', HTMLDivElement),
  composerContextTitle: $('composer-context-title', HTMLElement),
  composerContextText: $('composer-context-text', HTMLSpanElement),
  composerContextCancel: $('composer-context-cancel', HTMLButtonElement),
  composer: $('composer', HTMLFormElement),
  composerText: $('composer-text', HTMLTextAreaElement),
  dialog: $('new-chat-dialog', HTMLDialogElement),
  dialogForm: $('new-chat-form', HTMLFormElement),
  userSearch: $('user-search', HTMLInputElement),
  userPicker: $('user-picker', HTMLUListElement),
  groupName: $('group-name', HTMLInputElement),
  dialogError: $('new-chat-error', HTMLParagraphElement),
  dialogCancel: $('new-chat-cancel', HTMLButtonElement),
  menu: $('message-menu', HTMLDivElement),
  menuEmoji: $('menu-emoji', HTMLDivElement),
  menuReply: $('menu-reply', HTMLButtonElement),
  menuEdit: $('menu-edit', HTMLButtonElement),
  menuDelete: $('menu-delete', HTMLButtonElement),
  groupDialog: $('group-dialog', HTMLDialogElement),
  groupTitle: $('group-title', HTMLHeadingElement),
  groupMembers: $('group-members', HTMLUListElement),
  groupAddSearch: $('group-add-search', HTMLInputElement),
  groupCandidates: $('group-candidates', HTMLUListElement),
  groupError: $('group-error', HTMLParagraphElement),
  groupLeave: $('group-leave', HTMLButtonElement),
  groupClose: $('group-close', HTMLButtonElement),
  profileDialog: $('profile-dialog', HTMLDialogElement),
  profileForm: $('profile-form', HTMLFormElement),
  profileStatus: $('profile-status', HTMLSelectElement),
  profileStatusText: $('profile-status-text', HTMLInputElement),
  profileError: $('profile-error', HTMLParagraphElement),
  profileCancel: $('profile-cancel', HTMLButtonElement),
};

const state = {
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
  /** @type {number | null} the message whose menu is open */
  menuSeq: null,
  /** @type {Map<string, Map<string, number>>} chat id → user id → when their typing indicator ends */
  typing: new Map(),
};

function client() {
  if (!state.client) {
    throw new Error('not signed in');
  }
  return state.client;
}

// ---- names, avatars, times -----------------------------------------------------------------------------------

/** @param {string} userId */
function nameOf(userId) {
  return state.users.get(userId)?.displayName ?? state.users.get(userId)?.username ?? userId;
}

/**
 * "1 member", "2 members".
 * @param {number} count
 * @param {string} noun
 */
function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** @param {string} text */
function hue(text) {
  let h = 0;
  for (const char of text) {
    h = (h * 31 + (char.codePointAt(0) ?? 0)) % 360;
  }
  return `hsl(${h} 62% 52%)`;
}

/**
 * @param {HTMLElement} avatar
 * @param {string} label
 * @param {string | null} [presenceOf] a user whose presence the avatar shows
 */
function paintAvatar(avatar, label, presenceOf = null) {
  const initials = label
    .split(/[\s._@-]+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((part) => part[0]?.toUpperCase() ?? '')
    .join('');
  avatar.textContent = initials || '?';
  avatar.style.setProperty('--hue', hue(label));
  const status = presenceOf === null ? null : state.users.get(presenceOf)?.status;
  avatar.classList.toggle('online', status === 'online');
  avatar.classList.toggle('busy', status === 'busy');
  return avatar;
}

/** @param {ChatView} chat */
function otherMember(chat) {
  return (state.members.get(chat.id) ?? []).find((id) => id !== state.me?.id) ?? null;
}

/** @param {ChatView} chat */
function titleOf(chat) {
  if (chat.name) {
    return chat.name;
  }
  const other = otherMember(chat);
  return other ? nameOf(other) : 'Direct chat';
}

/** @param {string | null} iso */
function timeOf(iso) {
  if (!iso) {
    return '';
  }
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today
    ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

/** @param {string[]} ids */
async function loadUsers(ids) {
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
async function refreshUsers(ids) {
  for (const id of ids) {
    state.users.delete(id);
  }
  await loadUsers(ids);
}

/** @param {string} chatId */
async function loadMembers(chatId) {
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
function myRole(chatId) {
  const id = state.me?.id ?? '';
  return state.roles.get(chatId)?.get(id) ?? state.chats.get(chatId)?.role ?? null;
}

/** A user's presence and status message, as a line. @param {string} userId */
function statusLine(userId) {
  const user = state.users.get(userId);
  const presence = user?.status ?? 'offline';
  return user?.statusText ? `${presence} · ${user.statusText}` : presence;
}

// ---- sign-in -------------------------------------------------------------------------------------------------

function recentUsers() {
  try {
    const stored = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]');
    return Array.isArray(stored) ? stored.filter((id) => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

function showSignin() {
  ui.app.hidden = true;
  ui.signin.hidden = false;
  ui.quickUsers.replaceChildren(
    ...[...new Set([...recentUsers(), ...DEFAULT_USERS])].slice(0, 8).map((id) => {
      const button = el('button', { type: 'button' }, [paintAvatar(el('span', { class: 'avatar' }), id), id]);
      button.addEventListener('click', () => {
        ui.signinUser.value = id;
        ui.signinForm.requestSubmit();
      });
      return button;
    }),
  );
  ui.signinUser.focus();
}

/** @param {string} userId */
async function devToken(userId) {
  const response = await fetch(`${BASE}/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId }),
  });
  if (response.status === 404) {
    return null;
  }
  const body = await response.json();
  if (!response.ok) {
    throw new Error(body?.error?.message ?? `HTTP ${response.status}`);
  }
  return /** @type {string} */ (body.token);
}

ui.signinForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  ui.signinError.textContent = '';
  const userId = ui.signinUser.value.trim();
  try {
    const token = ui.signinTokenRow.hidden ? await devToken(userId) : ui.signinToken.value.trim();
    if (token === null) {
      ui.signinTokenRow.hidden = false;
      ui.signinError.textContent = 'Paste a token for this server.';
      return;
    }
    await enter(token);
    localStorage.setItem(
      RECENT_KEY,
      JSON.stringify([userId, ...recentUsers().filter((id) => id !== userId)]),
    );
  } catch (error) {
    ui.signinError.textContent = error instanceof Error ? error.message : String(error);
  }
});

ui.signout.addEventListener('click', () => {
  sessionStorage.removeItem(SESSION_KEY);
  state.stream?.close();
  location.reload();
});

/** @param {string} token */
async function enter(token) {
  const parley = new ParleyClient({ baseUrl: BASE, token });
  const me = await parley.me();
  sessionStorage.setItem(SESSION_KEY, token);
  state.client = parley;
  state.me = me;
  state.users.set(me.id, me);
  ui.signin.hidden = true;
  ui.app.hidden = false;
  renderMe();
  await loadChats();
  connect();
}

function renderMe() {
  const me = state.me;
  if (!me) {
    return;
  }
  ui.meName.textContent = me.displayName ?? me.username;
  ui.meId.textContent = me.statusText ? `@${me.username} · ${me.statusText}` : `@${me.username}`;
  paintAvatar(ui.meAvatar, me.displayName ?? me.username);
  ui.meAvatar.classList.toggle('busy', me.status === 'busy');
}

// ---- the chat list -------------------------------------------------------------------------------------------

async function loadChats() {
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
function authorPrefix(chat, authorId) {
  if (authorId === state.me?.id) {
    return 'You: ';
  }
  return chat.kind === 'group' ? `${nameOf(authorId)}: ` : '';
}

/** @param {ChatView} chat */
function activityOf(chat) {
  return chat.lastMessageAt ?? chat.createdAt;
}

/** @param {string} chatId */
function typistsIn(chatId) {
  const now = Date.now();
  return [...(state.typing.get(chatId) ?? new Map())].filter(([, until]) => until > now).map(([id]) => id);
}

/** The unread count in the tab's title: "(3) Parley". */
function renderTitle() {
  const total = [...state.chats.values()].reduce((sum, chat) => sum + chat.unreadCount, 0);
  document.title = total > 0 ? `(${total}) Parley` : 'Parley';
}

function renderChats() {
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

// ---- the open chat -------------------------------------------------------------------------------------------

/**
 * @param {string} chatId
 * @param {number | null} [focusSeq] a message to show and highlight (from a search hit)
 */
async function openChat(chatId, focusSeq = null) {
  const chat = state.chats.get(chatId);
  if (!chat) {
    return;
  }
  state.open = chatId;
  state.shown.clear();
  state.messages.clear();
  state.atEnd = true;
  setComposing(null);
  closeMenu();
  ui.messages.replaceChildren();
  showPane(true);
  await loadMembers(chatId);
  if (chat.kind === 'direct') {
    // A status message changes without an event to others: the latest when the chat is opened.
    await refreshUsers((state.members.get(chatId) ?? []).filter((id) => id !== state.me?.id));
  }
  renderHead();
  renderChats();
  // The newest page, or from a little before a search hit onwards (newer pages follow as the list is scrolled).
  const around = focusSeq !== null && focusSeq > chat.messageCount - PAGE_SIZE ? null : focusSeq;
  const page = await client().listMessages(
    chatId,
    around === null ? { limit: PAGE_SIZE } : { after: Math.max(0, around - 10), limit: PAGE_SIZE },
  );
  await loadUsers(page.data.map((message) => message.authorId));
  if (state.open !== chatId) {
    return;
  }
  state.atEnd = around === null || page.nextCursor === null;
  for (const message of page.data) {
    showMessage(message, { scroll: false });
  }
  const focused = focusSeq === null ? null : state.shown.get(focusSeq);
  if (focused) {
    focused.scrollIntoView({ block: 'center' });
    focused.classList.add('flash');
    setTimeout(() => focused.classList.remove('flash'), 2000);
  } else {
    ui.messages.scrollTop = ui.messages.scrollHeight;
  }
  renderTyping();
  if (matchMedia('(hover: hover)').matches) {
    ui.composerText.focus();
  }
  await markRead();
  await fillScreen();
}

/** Pages in older history until the list can scroll (a tall window shows more than one page). */
async function fillScreen() {
  while (state.open && ui.messages.scrollHeight <= ui.messages.clientHeight && lowestShown() > 1) {
    if (!(await loadOlder())) {
      return;
    }
  }
}

function lowestShown() {
  return Math.min(Infinity, ...state.shown.keys());
}

/**
 * The page before the oldest message on screen, the reader's place kept where it was. Done at seq 1.
 * @returns {Promise<boolean>} whether messages were added
 */
async function loadOlder() {
  const chatId = state.open;
  const lowest = lowestShown();
  if (!chatId || state.paging || lowest <= 1 || lowest === Infinity) {
    return false;
  }
  state.paging = true;
  ui.messages.setAttribute('aria-busy', 'true');
  try {
    const page = await client().listMessages(chatId, { before: lowest, limit: PAGE_SIZE });
    await loadUsers(page.data.map((message) => message.authorId));
    if (state.open !== chatId || page.data.length === 0) {
      return false;
    }
    const fromBottom = ui.messages.scrollHeight - ui.messages.scrollTop;
    for (const message of page.data) {
      showMessage(message, { scroll: false });
    }
    ui.messages.scrollTop = ui.messages.scrollHeight - fromBottom;
    return true;
  } finally {
    state.paging = false;
    ui.messages.removeAttribute('aria-busy');
  }
}

/** The page after the newest message on screen, when the chat was opened at a search hit. */
async function loadNewer() {
  const chatId = state.open;
  if (!chatId || state.paging || state.atEnd) {
    return;
  }
  state.paging = true;
  try {
    const highest = Math.max(0, ...state.shown.keys());
    const page = await client().listMessages(chatId, { after: highest, limit: PAGE_SIZE });
    await loadUsers(page.data.map((message) => message.authorId));
    if (state.open !== chatId) {
      return;
    }
    state.atEnd = page.nextCursor === null;
    for (const message of page.data) {
      showMessage(message, { scroll: false });
    }
  } finally {
    state.paging = false;
  }
  await markRead();
}

ui.messages.addEventListener('scroll', () => {
  closeMenu();
  if (ui.messages.scrollTop < 200) {
    void loadOlder();
  }
  if (ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 200) {
    void loadNewer();
  }
});

/** @param {boolean} open a chat, or the empty state */
function showPane(open) {
  ui.empty.hidden = open;
  for (const part of [ui.chatHead, ui.messages, ui.typing, ui.composer]) {
    part.hidden = !open;
  }
  if (!open) {
    ui.composerContext.hidden = true;
  }
  // A phone shows either the chat list or the chat.
  ui.app.classList.toggle('in-chat', open);
}

/** Back to the chat list (a phone's back button). */
function closeChat() {
  state.open = null;
  state.shown.clear();
  state.messages.clear();
  closeMenu();
  ui.messages.replaceChildren();
  showPane(false);
  renderChats();
}

ui.back.addEventListener('click', closeChat);

function renderHead() {
  const chat = state.open ? state.chats.get(state.open) : null;
  if (!chat) {
    return;
  }
  const members = state.members.get(chat.id) ?? [];
  const other = chat.kind === 'direct' ? otherMember(chat) : null;
  paintAvatar(ui.chatAvatar, titleOf(chat), other);
  ui.chatTitle.textContent = titleOf(chat);
  const online = members.filter((id) => state.users.get(id)?.status === 'online');
  ui.chatSubtitle.textContent = other
    ? statusLine(other)
    : `${plural(members.length, 'member')}, ${online.length} online${chat.topic ? ` · ${chat.topic}` : ''}`;
  ui.membersOpen.hidden = chat.kind !== 'group';
}

/**
 * The words a quote shows of a message.
 * @param {MessageView} message
 */
function quoteText(message) {
  const text = message.text ?? 'This message was deleted.';
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

/**
 * The quote of the message a reply answers (fetched when it is not on screen).
 * @param {MessageView} message
 */
function quoteOf(message) {
  if (message.replyTo === null) {
    return null;
  }
  const seq = message.replyTo;
  const quoted = state.messages.get(seq);
  const quote = el(
    'button',
    { type: 'button', class: 'quote', 'aria-label': `Go to the message this replies to` },
    [
      el('strong', {}, [quoted ? nameOf(quoted.authorId) : 'Reply']),
      el('span', {}, [quoted ? quoteText(quoted) : `to message #${seq}`]),
    ],
  );
  quote.addEventListener('click', () => {
    const target = state.shown.get(seq);
    if (target) {
      target.scrollIntoView({ block: 'center', behavior: 'smooth' });
      target.classList.add('flash');
      setTimeout(() => target.classList.remove('flash'), 1500);
    }
  });
  if (!quoted && state.open) {
    const chatId = state.open;
    client()
      .getMessage(chatId, seq)
      .then(async (found) => {
        await loadUsers([found.authorId]);
        if (state.open === chatId && !state.messages.has(seq)) {
          state.messages.set(seq, found);
          const reply = state.messages.get(message.seq);
          if (reply) {
            showMessage(reply, { scroll: false });
          }
        }
      })
      .catch(() => undefined);
  }
  return quote;
}

/**
 * The reaction chips under a message: each emoji's count, the caller's own marked; a click toggles yours.
 * @param {MessageView} message
 */
function reactionsOf(message) {
  const reactions = message.reactions ?? [];
  if (reactions.length === 0 || message.deletedAt) {
    return null;
  }
  return el(
    'div',
    { class: 'reactions' },
    reactions.map((reaction) => {
      const chip = el(
        'button',
        {
          type: 'button',
          class: 'reaction',
          'aria-pressed': String(reaction.me),
          'aria-label': `${reaction.emoji} ${reaction.count}${reaction.me ? ', yours: take it back' : ': react too'}`,
          'data-emoji': reaction.emoji,
        },
        [
          el('span', { class: 'emoji' }, [reaction.emoji]),
          el('span', { class: 'count' }, [String(reaction.count)]),
        ],
      );
      chip.addEventListener('click', () => void toggleReaction(message.seq, reaction.emoji));
      return chip;
    }),
  );
}

/**
 * @param {MessageView} message
 * @param {{ scroll?: boolean }} [options] scroll: follow the newest message when the reader is at the bottom
 */
function showMessage(message, { scroll = true } = {}) {
  const known = state.messages.get(message.seq);
  // Stream events and a send's answer carry no reactions: the ones on screen stay.
  const merged =
    message.reactions === undefined && known?.reactions
      ? { ...message, reactions: known.reactions }
      : message;
  state.messages.set(message.seq, merged);
  const mine = merged.authorId === state.me?.id;
  const chat = state.open ? state.chats.get(state.open) : null;
  const more = merged.deletedAt
    ? null
    : el(
        'button',
        { type: 'button', class: 'more', 'aria-label': 'Message actions', 'aria-haspopup': 'menu' },
        ['⋯'],
      );
  more?.addEventListener('click', (event) => {
    event.stopPropagation();
    openMenu(merged.seq, more);
  });
  const item = el(
    'li',
    {
      class: `message${mine ? ' mine' : ''}${merged.deletedAt ? ' deleted' : ''}`,
      'data-seq': String(merged.seq),
    },
    [
      !mine && chat?.kind === 'group' ? el('span', { class: 'author' }, [nameOf(merged.authorId)]) : null,
      merged.deletedAt ? null : quoteOf(merged),
      el('div', { class: 'row' }, [
        el('div', { class: 'bubble' }, [merged.text ?? 'This message was deleted.']),
        more,
      ]),
      reactionsOf(merged),
      el('time', { datetime: merged.createdAt }, [
        `${timeOf(merged.createdAt)}${merged.editedAt ? ' · edited' : ''}`,
      ]),
    ],
  );
  const existing = state.shown.get(merged.seq);
  if (existing) {
    // A message that grows (reactions, a longer edit) keeps a reader at the bottom there.
    const stick = ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 40;
    existing.replaceWith(item);
    if (stick) {
      ui.messages.scrollTop = ui.messages.scrollHeight;
    }
  } else {
    // In seq order, whatever order they come in (a send's answer and its stream event race).
    const after = [...state.shown.keys()].filter((seq) => seq > merged.seq).sort((a, b) => a - b)[0];
    const stick = ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 80;
    ui.messages.insertBefore(item, after === undefined ? null : (state.shown.get(after) ?? null));
    if (scroll && (stick || mine)) {
      ui.messages.scrollTop = ui.messages.scrollHeight;
    }
  }
  state.shown.set(merged.seq, item);
  if (merged.seq === 1 && !ui.messages.querySelector('.history-start')) {
    ui.messages.prepend(el('li', { class: 'history-start' }, ['This is the start of the conversation.']));
  }
  // Replies quoting this message show its new text.
  for (const [seq, other] of state.messages) {
    if (other.replyTo === merged.seq && state.shown.has(seq) && existing) {
      state.shown
        .get(seq)
        ?.querySelector('.quote')
        ?.replaceWith(quoteOf(other) ?? '');
    }
  }
}

// ---- the message menu: react, reply, edit, delete -----------------------------------------------------------

/**
 * @param {number} seq
 * @param {HTMLElement} anchor
 */
function openMenu(seq, anchor) {
  const message = state.messages.get(seq);
  const chatId = state.open;
  if (!message || !chatId) {
    return;
  }
  if (state.menuSeq === seq && !ui.menu.hidden) {
    closeMenu();
    return;
  }
  const mine = message.authorId === state.me?.id;
  const role = myRole(chatId);
  state.menuSeq = seq;
  ui.menuEdit.hidden = !mine;
  // The API lets the author delete a message, and a group's owners and admins anyone's.
  ui.menuDelete.hidden = !(mine || role === 'owner' || role === 'admin');
  ui.menuEmoji.replaceChildren(
    ...QUICK_EMOJI.map((emoji) => {
      const mineAlready =
        message.reactions?.some((reaction) => reaction.emoji === emoji && reaction.me) ?? false;
      const button = el(
        'button',
        {
          type: 'button',
          role: 'menuitemcheckbox',
          'aria-label': `React with ${emoji}`,
          'aria-checked': String(mineAlready),
        },
        [emoji],
      );
      button.addEventListener('click', () => {
        closeMenu();
        void toggleReaction(seq, emoji);
      });
      return button;
    }),
  );
  ui.menu.hidden = false;
  const box = anchor.getBoundingClientRect();
  const width = ui.menu.offsetWidth;
  const height = ui.menu.offsetHeight;
  const left = Math.max(8, Math.min(innerWidth - width - 8, mine ? box.right - width : box.left));
  const below = box.bottom + 4 + height < innerHeight - 8;
  ui.menu.style.left = `${left}px`;
  ui.menu.style.top = `${below ? box.bottom + 4 : Math.max(8, box.top - height - 4)}px`;
  ui.menuEmoji.querySelector('button')?.focus();
}

function closeMenu() {
  state.menuSeq = null;
  ui.menu.hidden = true;
}

document.addEventListener('click', (event) => {
  if (!ui.menu.hidden && event.target instanceof Node && !ui.menu.contains(event.target)) {
    closeMenu();
  }
});
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && !ui.menu.hidden) {
    closeMenu();
  }
});

ui.menuReply.addEventListener('click', () => {
  const seq = state.menuSeq;
  closeMenu();
  if (seq !== null) {
    setComposing({ kind: 'reply', seq });
  }
});
ui.menuEdit.addEventListener('click', () => {
  const seq = state.menuSeq;
  closeMenu();
  if (seq !== null) {
    setComposing({ kind: 'edit', seq });
  }
});
ui.menuDelete.addEventListener('click', async () => {
  const seq = state.menuSeq;
  const chatId = state.open;
  closeMenu();
  if (seq === null || !chatId || !confirm('Delete this message for everyone?')) {
    return;
  }
  try {
    await client().deleteMessage(chatId, seq);
    // The stream's message.deleted shows it; this is in case the stream is behind.
    if (state.open === chatId) {
      showMessage(await client().getMessage(chatId, seq));
    }
  } catch (error) {
    ui.typing.textContent = error instanceof ParleyError ? error.message : 'Could not delete.';
  }
});

/**
 * Adds the caller's reaction, or takes it back when they have it.
 * @param {number} seq
 * @param {string} emoji
 */
async function toggleReaction(seq, emoji) {
  const chatId = state.open;
  const message = state.messages.get(seq);
  if (!chatId || !message) {
    return;
  }
  const mine = message.reactions?.some((reaction) => reaction.emoji === emoji && reaction.me) ?? false;
  try {
    if (mine) {
      await client().removeReaction(chatId, seq, emoji);
      const count = (message.reactions?.find((reaction) => reaction.emoji === emoji)?.count ?? 1) - 1;
      applyReaction(chatId, seq, emoji, count, false);
    } else {
      const added = await client().addReaction(chatId, seq, emoji);
      applyReaction(chatId, seq, emoji, added.count, true);
    }
  } catch (error) {
    ui.typing.textContent = error instanceof ParleyError ? error.message : 'Could not react.';
  }
}

/**
 * Sets an emoji's count on a message on screen (and whether the caller is among those who reacted, when known).
 * @param {string} chatId
 * @param {number} seq
 * @param {string} emoji
 * @param {number} count
 * @param {boolean | null} me
 */
function applyReaction(chatId, seq, emoji, count, me) {
  const message = state.open === chatId ? state.messages.get(seq) : undefined;
  if (!message || !state.shown.has(seq)) {
    return;
  }
  /** @type {ReactionView[]} */
  const reactions = [...(message.reactions ?? [])];
  const index = reactions.findIndex((reaction) => reaction.emoji === emoji);
  const current = index >= 0 ? reactions[index] : undefined;
  const next = { emoji, count, me: me ?? current?.me ?? false };
  if (count <= 0) {
    reactions.splice(index, index >= 0 ? 1 : 0);
  } else if (index >= 0) {
    reactions[index] = next;
  } else {
    reactions.push(next);
  }
  showMessage({ ...message, reactions }, { scroll: false });
}

// ---- the composer: send, reply, edit ------------------------------------------------------------------------

/** @param {{ kind: 'reply' | 'edit', seq: number } | null} composing */
function setComposing(composing) {
  // The composer grows or shrinks with its context line: a reader at the newest message stays there.
  const atBottom = ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 80;
  requestAnimationFrame(() => {
    if (atBottom) {
      ui.messages.scrollTop = ui.messages.scrollHeight;
    }
  });
  const previous = state.composing;
  state.composing = composing;
  const message = composing ? state.messages.get(composing.seq) : undefined;
  if (!composing || !message) {
    state.composing = null;
    ui.composerContext.hidden = true;
    if (previous?.kind === 'edit') {
      ui.composerText.value = '';
    }
    return;
  }
  ui.composerContext.hidden = false;
  ui.composerContextTitle.textContent =
    composing.kind === 'edit'
      ? 'Edit message'
      : `Reply to ${message.authorId === state.me?.id ? 'yourself' : nameOf(message.authorId)}`;
  ui.composerContextText.textContent = quoteText(message);
  if (composing.kind === 'edit') {
    ui.composerText.value = message.text ?? '';
  } else if (previous?.kind === 'edit') {
    ui.composerText.value = '';
  }
  ui.composerText.focus();
}

ui.composerContextCancel.addEventListener('click', () => setComposing(null));

/** Reads the open chat up to its last message, while the page is being looked at. */
async function markRead() {
  const chat = state.open ? state.chats.get(state.open) : null;
  const last = Math.max(0, ...state.shown.keys());
  if (!chat || document.visibilityState !== 'visible' || last <= chat.lastReadSeq) {
    return;
  }
  const read = await client().markRead(chat.id, last);
  chat.lastReadSeq = read.lastReadSeq;
  chat.unreadCount = read.unreadCount;
  renderChats();
}

document.addEventListener('visibilitychange', () => void markRead());

function renderTyping() {
  const typists = state.open ? typistsIn(state.open) : [];
  ui.typing.textContent =
    typists.length === 0
      ? ''
      : `${typists.map(nameOf).join(', ')} ${typists.length === 1 ? 'is' : 'are'} typing…`;
}

ui.composer.addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = ui.composerText.value.trim();
  const chatId = state.open;
  if (!text || !chatId) {
    return;
  }
  const composing = state.composing;
  ui.composerText.value = '';
  setComposing(null);
  try {
    if (composing?.kind === 'edit') {
      const edited = await client().editMessage(chatId, composing.seq, { text });
      if (state.open === chatId) {
        showMessage(edited, { scroll: false });
      }
      return;
    }
    // The clientId makes a retry safe; the stream brings the message too, and the page shows it once by seq.
    const message = await client().sendMessage(chatId, {
      text,
      clientId: crypto.randomUUID(),
      ...(composing?.kind === 'reply' ? { replyTo: composing.seq } : {}),
    });
    if (state.open === chatId) {
      if (!state.atEnd) {
        // Opened at a search hit: jump to the newest messages, where this one is.
        await openChat(chatId);
        return;
      }
      showMessage(message);
    }
  } catch (error) {
    ui.composerText.value = text;
    ui.typing.textContent = error instanceof ParleyError ? error.message : 'Could not send.';
  }
});

ui.composerText.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    ui.composer.requestSubmit();
  }
});

ui.composerText.addEventListener('input', () => {
  if (state.open && ui.composerText.value !== '') {
    state.stream?.typing(state.open);
  }
});

// ---- live: the stream --------------------------------------------------------------------------------------

/** @param {string} text @param {boolean} live */
function connection(text, live) {
  ui.connectionText.textContent = text;
  ui.connectionDot.classList.toggle('live', live);
}

function connect() {
  // The stream continues each chat after the last message the list showed: nothing between them is missed.
  const cursors = Object.fromEntries(
    [...state.chats.values()].map((chat) => [chat.id, chat.lastMessage?.seq ?? 0]),
  );
  const stream = client().stream({ cursors });
  state.stream = stream;

  stream.on('resumed', () => {
    connection('live', true);
    // After a reconnect: counts and new chats from the server, in case the page missed a change to the list.
    if (stream.connections > 1) {
      void loadChats();
      void refreshShown();
    }
  });
  stream.on('disconnect', ({ reconnectInMs }) => {
    connection(
      reconnectInMs === null ? 'offline' : `reconnecting in ${Math.ceil(reconnectInMs / 1000)} s…`,
      false,
    );
  });

  stream.on('message.created', async ({ chatId, message }) => {
    const chat = state.chats.get(chatId);
    if (!chat) {
      return;
    }
    await loadUsers([message.authorId]);
    chat.lastMessage = message;
    chat.lastMessageAt = message.createdAt;
    chat.messageCount += 1;
    state.typing.get(chatId)?.delete(message.authorId);
    const mine = message.authorId === state.me?.id;
    if (!mine && message.seq > chat.lastReadSeq) {
      chat.unreadCount += 1;
    }
    if (state.open === chatId) {
      // Opened at a search hit, the page shows the newer history as it is scrolled down to.
      if (state.atEnd) {
        showMessage(message);
      }
      renderTyping();
      await markRead();
    }
    renderChats();
  });

  stream.on('reaction.added', ({ chatId, seq, emoji, userId, count }) => {
    applyReaction(chatId, seq, emoji, count, userId === state.me?.id ? true : null);
  });
  stream.on('reaction.removed', ({ chatId, seq, emoji, userId, count }) => {
    applyReaction(chatId, seq, emoji, count, userId === state.me?.id ? false : null);
  });

  /** @param {{ chatId: string, message: MessageView }} event */
  const changed = ({ chatId, message }) => {
    const chat = state.chats.get(chatId);
    if (chat?.lastMessage?.seq === message.seq) {
      chat.lastMessage = message;
      renderChats();
    }
    if (state.open === chatId && state.shown.has(message.seq)) {
      showMessage(message, { scroll: false });
    }
  };
  stream.on('message.updated', changed);
  stream.on('message.deleted', changed);

  stream.on('chat.created', async ({ chat }) => {
    state.chats.set(chat.id, chat);
    await loadMembers(chat.id);
    renderChats();
  });
  stream.on('chat.updated', ({ chat }) => {
    state.chats.set(chat.id, { ...state.chats.get(chat.id), ...chat });
    renderChats();
    renderHead();
  });
  stream.on('chat.deleted', ({ chat }) => forget(chat.id));
  stream.on('member.added', async ({ chatId, userId }) => {
    if (userId === state.me?.id && !state.chats.has(chatId)) {
      const chat = await client().getChat(chatId);
      state.chats.set(chat.id, chat);
      stream.follow(chat.id, chat.lastMessage?.seq ?? 0);
    }
    await membersChanged(chatId);
  });
  stream.on('member.removed', async ({ chatId, userId }) => {
    if (userId === state.me?.id) {
      forget(chatId);
      return;
    }
    await membersChanged(chatId);
  });
  stream.on('read.updated', async ({ chatId, userId }) => {
    // Read in another tab or device: the server's count is the truth.
    if (userId === state.me?.id && state.chats.has(chatId)) {
      state.chats.set(chatId, await client().getChat(chatId));
      renderChats();
    }
  });

  stream.on('typing', ({ chatId, userId }) => {
    let typists = state.typing.get(chatId);
    if (!typists) {
      typists = new Map();
      state.typing.set(chatId, typists);
    }
    typists.set(userId, Date.now() + 3000);
    renderTyping();
    renderChats();
    setTimeout(() => {
      renderTyping();
      renderChats();
    }, 3100);
  });

  stream.on('presence', async ({ userId, status }) => {
    const user = state.users.get(userId);
    if (user) {
      user.status = status;
    } else {
      await loadUsers([userId]);
    }
    renderChats();
    renderHead();
  });

  void stream.connect();
}

/** After a reconnect: the open chat's messages on screen, again from the server (a resume replays no reactions). */
async function refreshShown() {
  const chatId = state.open;
  if (!chatId || state.shown.size === 0) {
    return;
  }
  const range = { after: lowestShown() - 1, before: Math.max(...state.shown.keys()) + 1 };
  let page = await client().listMessages(chatId, { ...range, limit: 200 });
  for (;;) {
    if (state.open !== chatId) {
      return;
    }
    for (const message of page.data) {
      if (state.shown.has(message.seq)) {
        showMessage(message, { scroll: false });
      }
    }
    if (page.nextCursor === null) {
      return;
    }
    page = await client().listMessages(chatId, { cursor: page.nextCursor, limit: 200 });
  }
}

/** @param {string} chatId */
async function membersChanged(chatId) {
  const chat = state.chats.get(chatId);
  if (!chat) {
    return;
  }
  await loadMembers(chatId);
  chat.memberCount = state.members.get(chatId)?.length ?? chat.memberCount;
  renderChats();
  renderHead();
  if (ui.groupDialog.open && state.open === chatId) {
    renderGroup();
  }
}

/** @param {string} chatId */
function forget(chatId) {
  if (ui.groupDialog.open && state.open === chatId) {
    ui.groupDialog.close();
  }
  state.chats.delete(chatId);
  if (state.open === chatId) {
    state.open = null;
    ui.messages.replaceChildren();
    showPane(false);
  }
  renderChats();
}

// ---- search --------------------------------------------------------------------------------------------------

/**
 * The server's highlight is HTML-escaped text with <mark> around matches: rebuilt as text and <mark> nodes only.
 * @param {string} highlight
 */
function highlighted(highlight) {
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
async function search(q) {
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

// ---- new chat ------------------------------------------------------------------------------------------------

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
async function listPeople(q) {
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

// ---- a group's members: add, remove, roles, leave ------------------------------------------------------------

/** @type {Record<Role, string>} */
const ROLE_NAMES = { owner: 'Owner', admin: 'Admin', member: 'Member' };

ui.membersOpen.addEventListener('click', async () => {
  const chatId = state.open;
  if (!chatId) {
    return;
  }
  ui.groupError.textContent = '';
  ui.groupAddSearch.value = '';
  await loadMembers(chatId);
  renderGroup();
  ui.groupDialog.showModal();
  void listCandidates('');
});
ui.groupClose.addEventListener('click', () => ui.groupDialog.close());

/**
 * Runs a change to the group, showing the API's refusal in the dialog.
 * @param {() => Promise<unknown>} change
 */
async function groupChange(change) {
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

/** The member list, with what the caller may do to each: owners set roles and remove anyone, admins remove members. */
function renderGroup() {
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
          el('span', {}, [self ? `${name} (you)` : name]),
          el('small', { class: 'muted' }, [statusLine(userId)]),
        ]),
        roleControl,
        remove,
      ]);
    }),
  );
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
async function listCandidates(q) {
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

// ---- your profile: presence and status message ---------------------------------------------------------------

ui.profileOpen.addEventListener('click', () => {
  ui.profileError.textContent = '';
  ui.profileStatus.value = state.me?.status ?? 'online';
  ui.profileStatusText.value = state.me?.statusText ?? '';
  ui.profileDialog.showModal();
});
ui.profileCancel.addEventListener('click', () => ui.profileDialog.close());

ui.profileForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const status = /** @type {UserStatus} */ (ui.profileStatus.value);
  const statusText = ui.profileStatusText.value.trim();
  try {
    const me = await client().updateMe({ status, statusText: statusText === '' ? null : statusText });
    state.me = me;
    state.users.set(me.id, me);
    renderMe();
    ui.profileDialog.close();
  } catch (error) {
    ui.profileError.textContent = error instanceof Error ? error.message : String(error);
  }
});

// ---- start ---------------------------------------------------------------------------------------------------

const saved = sessionStorage.getItem(SESSION_KEY);
if (saved) {
  enter(saved).catch(() => {
    sessionStorage.removeItem(SESSION_KEY);
    showSignin();
  });
} else {
  showSignin();
}
