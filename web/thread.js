// @ts-check
// Threads: the side panel with a message's thread (its root, its replies paged, a composer), and the root's
// "N replies" line in the main history.
import { el, ui } from './dom.js';
import { attachMentions, mentionsMe, textWithMentions } from './mentions.js';
import { refusalText } from './moderation.js';
import { nameOf, paintAvatar, timeOf } from './names.js';
import { PAGE_SIZE, state, client, loadUsers } from './state.js';

/**
 * @typedef {import('./parley-client.js').MessageView} MessageView
 * @typedef {import('./parley-client.js').ThreadSummary} ThreadSummary
 */

/** The thread in the panel: its chat, its root, the replies on screen by seq. */
const thread = {
  /** @type {string | null} */
  chatId: null,
  /** @type {number | null} */
  root: null,
  /** @type {Map<number, HTMLLIElement>} */
  shown: new Map(),
  /** No older replies to page in. */
  complete: false,
  paging: false,
};

/** @type {Map<string, number>} `chatId:root` → others' replies past your cursor, in threads you take part in */
const unreadReplies = new Map();

/**
 * The threads with unread replies, from `GET /v1/unread`.
 * @param {{ chatId: string, threadRoot: number, unreadCount: number }[]} threads
 */
export function setThreadUnread(threads) {
  unreadReplies.clear();
  for (const entry of threads) {
    unreadReplies.set(`${entry.chatId}:${entry.threadRoot}`, entry.unreadCount);
  }
}

/** Draws a root's thread line again, when it is on screen. @param {number} root */
function refreshLine(root) {
  const message = state.messages.get(root);
  const line = state.shown.get(root)?.querySelector('.thread-line');
  const next = message ? threadLineOf(message) : null;
  if (line && next) {
    line.replaceWith(next);
  }
}

/** @param {MessageView} message the root, "3 replies · 10:42" under it in the history */
export function threadLineOf(message) {
  if (!message.thread || message.threadRoot !== null || message.deletedAt) {
    return null;
  }
  const line = el(
    'button',
    { type: 'button', class: 'thread-line', 'aria-label': `Open the thread: ${threadText(message.thread)}` },
    [
      el(
        'span',
        { class: 'thread-faces' },
        message.thread.participants
          .slice(0, 3)
          .map((id) => paintAvatar(el('span', { class: 'avatar tiny' }), nameOf(id), null)),
      ),
      el('span', { class: 'thread-count' }, [repliesOf(message.thread)]),
      el('span', { class: 'muted' }, [`· last reply ${timeOf(message.thread.lastReplyAt)}`]),
    ],
  );
  const unread = unreadReplies.get(`${message.chatId}:${message.seq}`) ?? 0;
  if (unread > 0) {
    line.classList.add('has-unread');
    line.append(el('span', { class: 'thread-new' }, [`${unread} new`]));
  }
  line.addEventListener('click', () => void openThread(message.seq));
  return line;
}

/** @param {MessageView} message a reply also sent to the chat: "↳ Replied in a thread", which opens it */
export function threadLinkOf(message) {
  const root = message.threadRoot;
  if (root === null || !message.alsoInChat || message.deletedAt) {
    return null;
  }
  const link = el('button', { type: 'button', class: 'thread-link' }, ['↳ Replied in a thread']);
  link.addEventListener('click', () => void openThread(root));
  return link;
}

/** @param {ThreadSummary} summary */
function repliesOf(summary) {
  return summary.replyCount === 1 ? '1 reply' : `${summary.replyCount} replies`;
}

/** @param {ThreadSummary} summary */
function threadText(summary) {
  return `${repliesOf(summary)}, last reply ${timeOf(summary.lastReplyAt)}`;
}

/** A message in the panel. @param {MessageView} message @param {boolean} root */
function itemOf(message, root) {
  const mine = message.authorId === state.me?.id;
  return el(
    'li',
    {
      class: `message${mine ? ' mine' : ''}${root ? ' thread-root' : ''}${message.deletedAt ? ' deleted' : ''}${mentionsMe(message) ? ' mentions-me' : ''}`,
      'data-seq': String(message.seq),
    },
    [
      mine ? null : el('span', { class: 'author' }, [nameOf(message.authorId)]),
      el('div', { class: 'row' }, [el('div', { class: 'bubble' }, textWithMentions(message))]),
      el('time', { datetime: message.createdAt }, [
        `${timeOf(message.createdAt)}${message.editedAt ? ' · edited' : ''}${message.alsoInChat ? ' · also in chat' : ''}`,
      ]),
    ],
  );
}

/**
 * Puts a reply in the panel in seq order (a send's answer and its stream event race: it shows once).
 * @param {MessageView} message
 */
function place(message) {
  const item = itemOf(message, false);
  const existing = thread.shown.get(message.seq);
  if (existing) {
    existing.replaceWith(item);
  } else {
    const stick =
      ui.threadMessages.scrollHeight - ui.threadMessages.scrollTop - ui.threadMessages.clientHeight < 80;
    const after = [...thread.shown.keys()].filter((seq) => seq > message.seq).sort((a, b) => a - b)[0];
    ui.threadMessages.insertBefore(item, after === undefined ? null : (thread.shown.get(after) ?? null));
    if (stick || message.authorId === state.me?.id) {
      ui.threadMessages.scrollTop = ui.threadMessages.scrollHeight;
    }
  }
  thread.shown.set(message.seq, item);
}

/** The panel's subtitle: the reply count. @param {ThreadSummary | null} summary */
function renderSummary(summary) {
  ui.threadSubtitle.textContent = summary ? threadText(summary) : 'No replies yet';
}

/**
 * Opens the thread under a message of the open chat in the panel.
 * @param {number} root
 */
export async function openThread(root) {
  const chatId = state.open;
  if (!chatId) {
    return;
  }
  thread.chatId = chatId;
  thread.root = root;
  thread.shown.clear();
  thread.complete = false;
  ui.threadMessages.replaceChildren();
  ui.threadAlso.checked = false;
  showThreadPanel(true);
  const [rootMessage, page] = await Promise.all([
    state.messages.get(root) ?? client().getMessage(chatId, root),
    client().listThreadMessages(chatId, root, { limit: PAGE_SIZE }),
  ]);
  await loadUsers([rootMessage.authorId, ...page.data.map((message) => message.authorId)]);
  if (thread.chatId !== chatId || thread.root !== root) {
    return;
  }
  ui.threadTitle.textContent = `Thread · ${nameOf(rootMessage.authorId)}`;
  renderSummary(rootMessage.thread);
  ui.threadMessages.replaceChildren(
    itemOf(rootMessage, true),
    el('li', { class: 'thread-divider' }, ['Replies']),
  );
  thread.complete = page.nextCursor === null;
  for (const message of page.data) {
    place(message);
  }
  ui.threadMessages.scrollTop = ui.threadMessages.scrollHeight;
  if (matchMedia('(hover: hover)').matches) {
    ui.threadText.focus();
  }
  await markThreadRead();
}

/** Older replies, as the panel is scrolled to its top. */
async function loadOlderReplies() {
  const { chatId, root } = thread;
  const lowest = Math.min(Infinity, ...thread.shown.keys());
  if (!chatId || root === null || thread.paging || thread.complete || lowest === Infinity) {
    return;
  }
  thread.paging = true;
  try {
    const page = await client().listThreadMessages(chatId, root, { before: lowest, limit: PAGE_SIZE });
    await loadUsers(page.data.map((message) => message.authorId));
    if (thread.chatId !== chatId || thread.root !== root) {
      return;
    }
    thread.complete = page.data.length < PAGE_SIZE;
    const fromBottom = ui.threadMessages.scrollHeight - ui.threadMessages.scrollTop;
    for (const message of page.data) {
      place(message);
    }
    ui.threadMessages.scrollTop = ui.threadMessages.scrollHeight - fromBottom;
  } finally {
    thread.paging = false;
  }
}

ui.threadMessages.addEventListener('scroll', () => {
  if (ui.threadMessages.scrollTop < 150) {
    void loadOlderReplies();
  }
});

/** Reads the open thread up to its newest reply (participants have a cursor; others store nothing). */
async function markThreadRead() {
  const newest = Math.max(0, ...thread.shown.keys());
  if (!thread.chatId || thread.root === null || newest === 0 || document.visibilityState !== 'visible') {
    return;
  }
  const root = thread.root;
  unreadReplies.delete(`${thread.chatId}:${root}`);
  refreshLine(root);
  await client()
    .markThreadRead(thread.chatId, root, newest)
    .catch(() => undefined);
}

/** @param {boolean} open */
export function showThreadPanel(open) {
  ui.threadPanel.hidden = !open;
  ui.app.classList.toggle('thread-open', open);
  if (!open) {
    thread.chatId = null;
    thread.root = null;
    thread.shown.clear();
  }
}

ui.threadClose.addEventListener('click', () => showThreadPanel(false));
ui.threadBack.addEventListener('click', () => showThreadPanel(false));

/**
 * A reply from the stream (or a send's answer): shown when its thread is open.
 * @param {string} chatId
 * @param {MessageView} message
 */
export async function threadReplyArrived(chatId, message) {
  const root = message.threadRoot;
  if (root === null) {
    return;
  }
  if (thread.chatId !== chatId || thread.root !== root) {
    // Someone else's reply in a thread you take part in (you wrote the root, or replied) is unread there.
    const me = state.me?.id ?? '';
    const rootMessage = state.open === chatId ? state.messages.get(root) : undefined;
    const key = `${chatId}:${root}`;
    const participant =
      unreadReplies.has(key) ||
      rootMessage?.authorId === me ||
      (rootMessage?.thread?.participants.includes(me) ?? false);
    if (message.authorId !== me && participant) {
      unreadReplies.set(key, (unreadReplies.get(key) ?? 0) + 1);
      refreshLine(root);
    }
    return;
  }
  await loadUsers([message.authorId]);
  place(message);
  await markThreadRead();
}

/**
 * An edit or deletion of a message in the open thread.
 * @param {string} chatId
 * @param {MessageView} message
 */
export function threadMessageChanged(chatId, message) {
  if (thread.chatId !== chatId) {
    return;
  }
  if (message.seq === thread.root) {
    ui.threadMessages.querySelector('.thread-root')?.replaceWith(itemOf(message, true));
  } else if (thread.shown.has(message.seq)) {
    place(message);
  }
}

/**
 * `thread.updated`: the root's summary changed (a reply sent or deleted).
 * @param {string} chatId
 * @param {number} root
 * @param {ThreadSummary | null} summary
 */
export function threadSummaryChanged(chatId, root, summary) {
  if (thread.chatId === chatId && thread.root === root) {
    renderSummary(summary);
  }
}

const mentionKeys = attachMentions(ui.threadText, ui.threadMentions);

ui.threadText.addEventListener('keydown', (event) => {
  if (mentionKeys(event)) {
    return;
  }
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    ui.threadComposer.requestSubmit();
  }
});

ui.threadComposer.addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = ui.threadText.value.trim();
  const { chatId, root } = thread;
  if (!text || !chatId || root === null) {
    return;
  }
  const alsoInChat = ui.threadAlso.checked;
  ui.threadText.value = '';
  try {
    const reply = await client().sendThreadReply(chatId, root, {
      text,
      clientId: crypto.randomUUID(),
      ...(alsoInChat ? { alsoInChat: true } : {}),
    });
    await threadReplyArrived(chatId, reply);
  } catch (error) {
    ui.threadText.value = text;
    ui.threadSubtitle.textContent = refusalText(error, chatId);
  }
});
