// @ts-check
// The demo chat page: plain ES modules over the typed client, which the server bundles as ./parley-client.js.
import { ParleyClient, ParleyError } from './parley-client.js';

/**
 * @typedef {import('./parley-client.js').ChatView} ChatView
 * @typedef {import('./parley-client.js').MessageView} MessageView
 * @typedef {import('./parley-client.js').UserView} UserView
 * @typedef {import('./parley-client.js').ParleyStream} ParleyStream
 */

/** Where Parley is mounted (the page's own directory): `http://host` or `http://host/chat`. */
const BASE = new URL('.', location.href).href.replace(/\/$/, '');
const SESSION_KEY = 'parley.demo.session';
const RECENT_KEY = 'parley.demo.recent';
const DEFAULT_USERS = ['alice', 'bob', 'carol'];

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
  chatAvatar: $('chat-avatar', HTMLSpanElement),
  chatTitle: $('chat-title', HTMLHeadingElement),
  chatSubtitle: $('chat-subtitle', HTMLElement),
  messages: $('messages', HTMLOListElement),
  typing: $('typing', HTMLParagraphElement),
  composer: $('composer', HTMLFormElement),
  composerText: $('composer-text', HTMLTextAreaElement),
  dialog: $('new-chat-dialog', HTMLDialogElement),
  dialogForm: $('new-chat-form', HTMLFormElement),
  userSearch: $('user-search', HTMLInputElement),
  userPicker: $('user-picker', HTMLUListElement),
  groupName: $('group-name', HTMLInputElement),
  dialogError: $('new-chat-error', HTMLParagraphElement),
  dialogCancel: $('new-chat-cancel', HTMLButtonElement),
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
  /** @type {Map<string, UserView>} */
  users: new Map(),
  /** @type {string | null} */
  open: null,
  /** @type {Map<number, HTMLLIElement>} the open chat's messages on screen, by seq */
  shown: new Map(),
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
  avatar.classList.toggle('online', presenceOf !== null && state.users.get(presenceOf)?.status === 'online');
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

/** @param {string} chatId */
async function loadMembers(chatId) {
  const page = await client().listMembers(chatId, { limit: 200 });
  const ids = page.data.map((member) => member.userId);
  state.members.set(chatId, ids);
  await loadUsers(ids);
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
  ui.meName.textContent = me.displayName ?? me.username;
  ui.meId.textContent = `@${me.username}`;
  paintAvatar(ui.meAvatar, me.displayName ?? me.username);
  await loadChats();
  connect();
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

function renderChats() {
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
          ? `${authorPrefix(chat, last.authorId)}${last.text ?? 'deleted'}`
          : chat.kind === 'group'
            ? `${chat.memberCount} members`
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
  ui.messages.replaceChildren();
  showPane(true);
  await loadMembers(chatId);
  renderHead();
  renderChats();
  const around = focusSeq !== null && focusSeq > chat.messageCount - 50 ? null : focusSeq;
  const page = await client().listMessages(
    chatId,
    around === null ? { limit: 100 } : { after: Math.max(0, around - 10) },
  );
  await loadUsers(page.data.map((message) => message.authorId));
  if (state.open !== chatId) {
    return;
  }
  for (const message of page.data) {
    showMessage(message);
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
  ui.composerText.focus();
  await markRead();
}

/** @param {boolean} open a chat, or the empty state */
function showPane(open) {
  ui.empty.hidden = open;
  for (const part of [ui.chatHead, ui.messages, ui.typing, ui.composer]) {
    part.hidden = !open;
  }
}

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
    ? state.users.get(other)?.status === 'online'
      ? 'online'
      : 'offline'
    : `${members.length} members, ${online.length} online${chat.topic ? ` · ${chat.topic}` : ''}`;
}

/** @param {MessageView} message */
function showMessage(message) {
  const mine = message.authorId === state.me?.id;
  const chat = state.open ? state.chats.get(state.open) : null;
  const item = el(
    'li',
    {
      class: `message${mine ? ' mine' : ''}${message.deletedAt ? ' deleted' : ''}`,
      'data-seq': String(message.seq),
    },
    [
      !mine && chat?.kind === 'group' ? el('span', { class: 'author' }, [nameOf(message.authorId)]) : null,
      el('div', { class: 'bubble' }, [message.text ?? 'This message was deleted.']),
      el('time', { datetime: message.createdAt }, [
        `${timeOf(message.createdAt)}${message.editedAt ? ' · edited' : ''}`,
      ]),
    ],
  );
  const existing = state.shown.get(message.seq);
  if (existing) {
    existing.replaceWith(item);
  } else {
    // In seq order, whatever order they come in (a send's answer and its stream event race).
    const after = [...state.shown.keys()].filter((seq) => seq > message.seq).sort((a, b) => a - b)[0];
    const stick = ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 80;
    ui.messages.insertBefore(item, after === undefined ? null : (state.shown.get(after) ?? null));
    if (stick || mine) {
      ui.messages.scrollTop = ui.messages.scrollHeight;
    }
  }
  state.shown.set(message.seq, item);
}

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
  ui.composerText.value = '';
  try {
    // The clientId makes a retry safe; the stream brings the message too, and the page shows it once by seq.
    const message = await client().sendMessage(chatId, { text, clientId: crypto.randomUUID() });
    if (state.open === chatId) {
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
      showMessage(message);
      renderTyping();
      await markRead();
    }
    renderChats();
  });

  /** @param {{ chatId: string, message: MessageView }} event */
  const changed = ({ chatId, message }) => {
    const chat = state.chats.get(chatId);
    if (chat?.lastMessage?.seq === message.seq) {
      chat.lastMessage = message;
      renderChats();
    }
    if (state.open === chatId && state.shown.has(message.seq)) {
      showMessage(message);
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
    }
    if (state.chats.has(chatId)) {
      await loadMembers(chatId);
      renderChats();
      renderHead();
    }
  });
  stream.on('member.removed', async ({ chatId, userId }) => {
    if (userId === state.me?.id) {
      forget(chatId);
      return;
    }
    await loadMembers(chatId);
    renderHead();
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

/** @param {string} chatId */
function forget(chatId) {
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
