// @ts-check
// A thread's traces in the main history: the root's "N replies · last reply 10:42" line (with the replies you have
// not read, in threads you take part in), and a reply's "↳ Replied in a thread" link. Both open the panel.
import { el } from './dom.js';
import { nameOf, paintAvatar, timeOf } from './names.js';
import { state } from './state.js';
import { openThread } from './thread.js';

/**
 * @typedef {import('./parley-client.js').MessageView} MessageView
 * @typedef {import('./parley-client.js').ThreadSummary} ThreadSummary
 */

/** @type {Map<string, number>} `chatId:root` → others' replies past your cursor, in threads you take part in */
export const unreadReplies = new Map();

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
export function refreshLine(root) {
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
export function threadText(summary) {
  return `${repliesOf(summary)}, last reply ${timeOf(summary.lastReplyAt)}`;
}
