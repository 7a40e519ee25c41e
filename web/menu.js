// @ts-check
// The message menu (react, reply, edit, pin, report, delete) and reactions.
import { ParleyError } from './parley-client.js';
import { setComposing } from './composer.js';
import { el, ui } from './dom.js';
import { showMessage } from './message-view.js';
import { reportMessage } from './moderation.js';
import { canPin, isPinned, togglePin } from './pins.js';
import { QUICK_EMOJI, state, client, myRole } from './state.js';
import { editThreadReply, openThread, redrawThreadMessage, threadMessage } from './thread.js';

/**
 * @typedef {import('./parley-client.js').ReactionView} ReactionView
 */

/**
 * A message of the open chat, from the history or from the thread panel.
 * @param {string} chatId
 * @param {number} seq
 */
function messageOf(chatId, seq) {
  return state.messages.get(seq) ?? threadMessage(chatId, seq);
}

/**
 * @param {number} seq
 * @param {HTMLElement} anchor
 * @param {'chat' | 'thread'} [where] the history, or the thread panel (no quote reply or pin there)
 */
export function openMenu(seq, anchor, where = 'chat') {
  const chatId = state.open;
  const message = chatId
    ? where === 'thread'
      ? threadMessage(chatId, seq)
      : state.messages.get(seq)
    : undefined;
  if (!message || !chatId) {
    return;
  }
  if (state.menuSeq === seq && state.menuWhere === where && !ui.menu.hidden) {
    closeMenu();
    return;
  }
  const mine = message.authorId === state.me?.id;
  const role = myRole(chatId);
  state.menuSeq = seq;
  state.menuWhere = where;
  ui.menuEdit.hidden = !mine;
  ui.menuReply.hidden = where === 'thread';
  // A thread reply has no thread of its own, and the panel's root is the open thread.
  ui.menuThread.hidden = message.threadRoot !== null || where === 'thread';
  // Both members of a direct chat pin, in a group its owners and admins (from the history).
  ui.menuPin.hidden = !canPin(chatId) || where === 'thread';
  ui.menuPin.textContent = isPinned(message) ? 'Unpin' : 'Pin';
  // The API lets the author delete a message, and a group's owners and admins anyone's.
  ui.menuDelete.hidden = !(mine || role === 'owner' || role === 'admin');
  // Any member reports someone else's message, once, while it is not deleted.
  ui.menuReport.hidden = mine || message.deletedAt !== null;
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

/**
 * A message's "⋯" button, which opens its menu; none on a deleted message.
 * @param {{ seq: number, deletedAt: string | null }} message
 * @param {'chat' | 'thread'} [where]
 */
export function moreButton(message, where = 'chat') {
  if (message.deletedAt) {
    return null;
  }
  const more = el(
    'button',
    { type: 'button', class: 'more', 'aria-label': 'Message actions', 'aria-haspopup': 'menu' },
    ['⋯'],
  );
  more.addEventListener('click', (event) => {
    event.stopPropagation();
    openMenu(message.seq, more, where);
  });
  return more;
}

export function closeMenu() {
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
ui.menuThread.addEventListener('click', () => {
  const seq = state.menuSeq;
  closeMenu();
  if (seq !== null) {
    void openThread(seq);
  }
});
ui.menuEdit.addEventListener('click', () => {
  const seq = state.menuSeq;
  const where = state.menuWhere;
  closeMenu();
  if (seq !== null && where === 'thread') {
    editThreadReply(seq);
  } else if (seq !== null) {
    setComposing({ kind: 'edit', seq });
  }
});
ui.menuPin.addEventListener('click', () => {
  const seq = state.menuSeq;
  closeMenu();
  if (seq !== null) {
    void togglePin(seq);
  }
});
ui.menuReport.addEventListener('click', () => {
  const seq = state.menuSeq;
  const chatId = state.open;
  closeMenu();
  if (seq !== null && chatId) {
    void reportMessage(chatId, seq);
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
      const deleted = await client().getMessage(chatId, seq);
      redrawThreadMessage(chatId, deleted);
      if (state.shown.has(seq)) {
        showMessage(deleted, { scroll: false });
      }
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
export async function toggleReaction(seq, emoji) {
  const chatId = state.open;
  const message = chatId ? messageOf(chatId, seq) : undefined;
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
export function applyReaction(chatId, seq, emoji, count, me) {
  const message = state.open === chatId ? messageOf(chatId, seq) : undefined;
  if (!message) {
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
  // The same message may be on screen twice: in the history and in the thread panel.
  redrawThreadMessage(chatId, { ...(threadMessage(chatId, seq) ?? message), reactions });
  const inHistory = state.messages.get(seq);
  if (inHistory && state.shown.has(seq)) {
    showMessage({ ...inHistory, reactions }, { scroll: false });
  }
}
