// @ts-check
// Threads: the side panel with a message's thread (its root, its replies paged, a composer), and the root's
// "N replies" line in the main history.
import { el, ui } from './dom.js';
import { filesOf } from './files.js';
import { attachMentions, mentionsMe, textWithMentions } from './mentions.js';
import { moreButton } from './menu.js';
import { reactionsOf } from './message-view.js';
import { refusalText } from './moderation.js';
import { refreshLine, threadText, unreadReplies } from './thread-line.js';
import { nameOf, timeOf } from './names.js';
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
  /** @type {Map<number, MessageView>} the root and the replies loaded, by seq */
  messages: new Map(),
  /** @type {number | null} the reply being edited in the panel's composer */
  editing: null,
  /** No older replies to page in. */
  complete: false,
  paging: false,
};

/** A message in the panel, with its menu and reactions. @param {MessageView} message @param {boolean} root */
function itemOf(message, root) {
  thread.messages.set(message.seq, message);
  const mine = message.authorId === state.me?.id;
  const more = moreButton(message, 'thread');
  return el(
    'li',
    {
      class: `message${mine ? ' mine' : ''}${root ? ' thread-root' : ''}${message.deletedAt ? ' deleted' : ''}${mentionsMe(message) ? ' mentions-me' : ''}${thread.editing === message.seq ? ' editing' : ''}`,
      'data-seq': String(message.seq),
    },
    [
      mine ? null : el('span', { class: 'author' }, [nameOf(message.authorId)]),
      el('div', { class: 'row' }, [el('div', { class: 'bubble' }, textWithMentions(message)), more]),
      filesOf(message),
      reactionsOf(message),
      el('time', { datetime: message.createdAt }, [
        `${timeOf(message.createdAt)}${message.editedAt ? ' · edited' : ''}${message.alsoInChat ? ' · also in chat' : ''}`,
      ]),
    ],
  );
}

/**
 * A message of the open thread (its root or a reply), as loaded.
 * @param {string} chatId
 * @param {number} seq
 */
export function threadMessage(chatId, seq) {
  return thread.chatId === chatId ? thread.messages.get(seq) : undefined;
}

/**
 * Draws a message of the open thread again with what is known of it (reactions, an edit), keeping the
 * reactions when the new view carries none (stream events do not).
 * @param {string} chatId
 * @param {MessageView} message
 */
export function redrawThreadMessage(chatId, message) {
  if (thread.chatId !== chatId) {
    return;
  }
  const known = thread.messages.get(message.seq);
  const merged =
    message.reactions === undefined && known?.reactions
      ? { ...message, reactions: known.reactions }
      : message;
  if (merged.seq === thread.root) {
    ui.threadMessages.querySelector('.thread-root')?.replaceWith(itemOf(merged, true));
  } else if (thread.shown.has(merged.seq)) {
    place(merged);
  }
}

/**
 * Edits one of your replies in the panel's composer (Escape cancels).
 * @param {number} seq
 */
export function editThreadReply(seq) {
  const message = thread.messages.get(seq);
  if (!message) {
    return;
  }
  thread.editing = seq;
  ui.threadText.value = message.text ?? '';
  ui.threadSubtitle.textContent = 'Editing your message · Esc to cancel';
  ui.threadComposer.classList.add('editing');
  ui.threadText.focus();
  redrawThreadMessage(thread.chatId ?? '', message);
}

function stopEditing() {
  const seq = thread.editing;
  thread.editing = null;
  ui.threadComposer.classList.remove('editing');
  const root = thread.root === null ? undefined : thread.messages.get(thread.root);
  renderSummary(root?.thread ?? null);
  const message = seq === null ? undefined : thread.messages.get(seq);
  if (message && thread.chatId) {
    redrawThreadMessage(thread.chatId, message);
  }
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
  thread.messages.clear();
  thread.editing = null;
  ui.threadComposer.classList.remove('editing');
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
    thread.messages.clear();
    thread.editing = null;
    ui.threadComposer.classList.remove('editing');
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
  if (thread.chatId === chatId && thread.editing === message.seq && message.deletedAt) {
    ui.threadText.value = '';
    stopEditing();
  }
  redrawThreadMessage(chatId, message);
}

/** After `chat.resync`: the open thread of that chat again from the server. @param {string} chatId */
export async function reloadThread(chatId) {
  if (thread.chatId === chatId && thread.root !== null && state.open === chatId) {
    await openThread(thread.root);
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
    const known = thread.messages.get(root);
    if (known) {
      thread.messages.set(root, { ...known, thread: summary });
    }
    if (thread.editing === null) {
      renderSummary(summary);
    }
  }
}

const mentionKeys = attachMentions(ui.threadText, ui.threadMentions);

ui.threadText.addEventListener('keydown', (event) => {
  if (mentionKeys(event)) {
    return;
  }
  if (event.key === 'Escape' && thread.editing !== null) {
    event.preventDefault();
    ui.threadText.value = '';
    stopEditing();
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
  const editing = thread.editing;
  if (editing !== null) {
    try {
      const edited = await client().editMessage(chatId, editing, { text });
      stopEditing();
      threadMessageChanged(chatId, edited);
    } catch (error) {
      ui.threadText.value = text;
      ui.threadSubtitle.textContent = refusalText(error, chatId);
    }
    return;
  }
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
