// @ts-check
// A message on screen: its bubble, the quote it replies to, its reactions.
import { el, ui } from './dom.js';
import { filesOf } from './files.js';
import { moreButton, toggleReaction } from './menu.js';
import { nameOf, timeOf } from './names.js';
import { textWithMentions, mentionsMe } from './mentions.js';
import { renderSeen } from './receipts.js';
import { state, client, loadUsers } from './state.js';
import { threadLineOf, threadLinkOf } from './thread-line.js';

/**
 * @typedef {import('./parley-client.js').MessageView} MessageView
 */

/**
 * The words a quote shows of a message.
 * @param {MessageView} message
 */
export function quoteText(message) {
  const text = message.text ?? 'This message was deleted.';
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

/**
 * The quote of the message a reply answers (fetched when it is not on screen).
 * @param {MessageView} message
 */
export function quoteOf(message) {
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
export function reactionsOf(message) {
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
export function showMessage(message, { scroll = true } = {}) {
  const known = state.messages.get(message.seq);
  // Stream events and a send's answer carry no reactions (a send's answer no pin either): the ones known stay.
  const merged = {
    ...message,
    ...(message.reactions === undefined && known?.reactions ? { reactions: known.reactions } : {}),
    ...(message.attachments === undefined && known?.attachments ? { attachments: known.attachments } : {}),
    ...(message.pinnedAt === undefined && known
      ? { pinnedAt: known.pinnedAt, pinnedBy: known.pinnedBy }
      : {}),
  };
  state.messages.set(message.seq, merged);
  const mine = merged.authorId === state.me?.id;
  const chat = state.open ? state.chats.get(state.open) : null;
  const more = moreButton(merged);
  const item = el(
    'li',
    {
      class: `message${mine ? ' mine' : ''}${merged.deletedAt ? ' deleted' : ''}${merged.pinnedAt ? ' pinned' : ''}${mentionsMe(merged) ? ' mentions-me' : ''}`,
      'data-seq': String(merged.seq),
    },
    [
      !mine && chat?.kind === 'group' ? el('span', { class: 'author' }, [nameOf(merged.authorId)]) : null,
      pinMarkOf(merged),
      merged.deletedAt ? null : quoteOf(merged),
      el('div', { class: 'row' }, [el('div', { class: 'bubble' }, textWithMentions(merged)), more]),
      filesOf(merged),
      reactionsOf(merged),
      threadLineOf(merged),
      threadLinkOf(merged),
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
  renderSeen();
}

/**
 * "📌 Pinned by bob" above a pinned message.
 * @param {MessageView} message
 */
function pinMarkOf(message) {
  if (!message.pinnedAt || message.deletedAt) {
    return null;
  }
  const by = message.pinnedBy === state.me?.id ? 'you' : nameOf(message.pinnedBy ?? '');
  return el('span', { class: 'pin-mark' }, [message.pinnedBy ? `📌 Pinned by ${by}` : '📌 Pinned']);
}
