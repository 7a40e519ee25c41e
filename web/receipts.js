// @ts-check
// "Seen" under your own last message: the receipts of that message once, then each `read.updated` of the chat.
import { el, ui } from './dom.js';
import { nameOf } from './names.js';
import { client, loadUsers, state } from './state.js';

/** The newest message of yours on screen (not deleted), or null. */
export function myLastSeq() {
  let last = null;
  for (const [seq, message] of state.messages) {
    if (state.shown.has(seq) && message.authorId === state.me?.id && !message.deletedAt) {
      last = last === null || seq > last ? seq : last;
    }
  }
  return last;
}

/**
 * Who has read your last message, from its receipts; a chat beyond the receipts limit (409) shows none.
 * @param {string} chatId
 */
export async function loadReceipts(chatId) {
  const seq = myLastSeq();
  if (seq === null) {
    state.readers = new Map();
    renderSeen();
    return;
  }
  const page = await client()
    .listReceipts(chatId, seq, { limit: 200 })
    .catch(() => null);
  if (state.open !== chatId) {
    return;
  }
  await loadUsers((page?.data ?? []).map((receipt) => receipt.userId));
  /** @type {Map<string, number>} */
  const readers = new Map();
  for (const receipt of page?.data ?? []) {
    readers.set(receipt.userId, receipt.lastReadSeq);
  }
  // A read.updated that came while the receipts were loading is as new or newer.
  for (const [userId, read] of state.readers) {
    readers.set(userId, Math.max(read, readers.get(userId) ?? 0));
  }
  state.readers = readers;
  renderSeen();
}

/**
 * Another member's read cursor moved (live): they have seen every message up to `seq`.
 * @param {string} chatId
 * @param {string} userId
 * @param {number} seq
 */
export async function readerMoved(chatId, userId, seq) {
  if (state.open !== chatId || userId === state.me?.id) {
    return;
  }
  await loadUsers([userId]);
  state.readers.set(userId, Math.max(seq, state.readers.get(userId) ?? 0));
  renderSeen();
}

/**
 * "Seen by bob, carol and 2 others".
 * @param {string[]} names
 */
function seenBy(names) {
  if (names.length <= 3) {
    return `Seen by ${names.join(', ')}`;
  }
  const others = names.length - 2;
  return `Seen by ${names.slice(0, 2).join(', ')} and ${others} others`;
}

/** The "Seen" line under your last message: "Seen" in a direct chat, "Seen by …" in a group. */
export function renderSeen() {
  const atBottom = ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 40;
  for (const line of ui.messages.querySelectorAll('.seen')) {
    line.remove();
  }
  const chat = state.open ? state.chats.get(state.open) : null;
  const seq = myLastSeq();
  const item = seq === null ? undefined : state.shown.get(seq);
  if (!chat || seq === null || !item || !state.atEnd) {
    return;
  }
  const readers = [...state.readers]
    .filter(([userId, read]) => read >= seq && userId !== state.me?.id)
    .map(([userId]) => nameOf(userId))
    .sort((a, b) => a.localeCompare(b));
  if (readers.length === 0) {
    return;
  }
  const text = chat.kind === 'direct' ? 'Seen' : seenBy(readers);
  item.append(el('span', { class: 'seen', title: `Seen by ${readers.join(', ')}` }, [text]));
  if (atBottom) {
    ui.messages.scrollTop = ui.messages.scrollHeight;
  }
}
