// @ts-check
// Pins: pin and unpin from the message menu, a marker on pinned messages, the pinned messages in the chat's header
// (a click goes to the message, loading history around it when it is not on screen), live for every member.
import { el, ui } from './dom.js';
import { flash, openChat } from './history.js';
import { quoteText, showMessage } from './message-view.js';
import { nameOf, timeOf } from './names.js';
import { ParleyError } from './parley-client.js';
import { client, loadUsers, myRole, state } from './state.js';

/**
 * @typedef {import('./parley-client.js').MessageView} MessageView
 */

/**
 * Whether the caller may pin in a chat: both members of a direct chat, a group's owners and admins.
 * @param {string} chatId
 */
export function canPin(chatId) {
  if (state.chats.get(chatId)?.kind === 'direct') {
    return true;
  }
  const role = myRole(chatId);
  return role === 'owner' || role === 'admin';
}

/** @param {MessageView} message */
export function isPinned(message) {
  return Boolean(message.pinnedAt);
}

/** @param {string} chatId */
export async function loadPins(chatId) {
  const page = await client()
    .listPins(chatId, { limit: 100 })
    .catch(() => null);
  if (!page || state.open !== chatId) {
    return;
  }
  await loadUsers(page.data.flatMap((message) => [message.authorId, message.pinnedBy ?? message.authorId]));
  if (state.open !== chatId) {
    return;
  }
  state.pins = page.data;
  renderPins();
}

/** Newest pin first, then the higher seq (as `GET /pins` orders them). @param {MessageView[]} pins */
function sortPins(pins) {
  return pins.sort((a, b) => (b.pinnedAt ?? '').localeCompare(a.pinnedAt ?? '') || b.seq - a.seq);
}

/** The pin button in the chat's header (with the count) and the panel's list. */
export function renderPins() {
  const count = state.pins.length;
  ui.pinsOpen.hidden = count === 0;
  ui.pinsCount.textContent = String(count);
  ui.pinsOpen.setAttribute('aria-label', `${count} pinned ${count === 1 ? 'message' : 'messages'}`);
  if (count === 0) {
    showPinsPanel(false);
  }
  ui.pinsList.replaceChildren(
    ...state.pins.map((message) => {
      const by = message.pinnedBy ? ` · pinned by ${nameOrYou(message.pinnedBy, 'you')}` : '';
      const who = nameOrYou(message.authorId, 'You');
      const button = el('button', { type: 'button', class: 'pin-item', 'data-seq': String(message.seq) }, [
        el('span', { class: 'pin-who' }, [`${who} · ${timeOf(message.createdAt)}${by}`]),
        el('span', { class: 'pin-text' }, [quoteText(message)]),
      ]);
      button.addEventListener('click', () => {
        showPinsPanel(false);
        void jumpTo(message.seq);
      });
      return el('li', {}, [button]);
    }),
  );
}

/**
 * A user's name, or "you" for the caller.
 * @param {string} userId
 * @param {string} you
 */
function nameOrYou(userId, you) {
  return userId === state.me?.id ? you : nameOf(userId);
}

/** @param {boolean} open */
export function showPinsPanel(open) {
  ui.pinsPanel.hidden = !open;
  ui.pinsOpen.setAttribute('aria-expanded', String(open));
}

ui.pinsOpen.addEventListener('click', () => showPinsPanel(ui.pinsPanel.hidden));
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && !ui.pinsPanel.hidden) {
    showPinsPanel(false);
  }
});

/**
 * Shows a message of the open chat: scrolled to when on screen, else the chat opens around it.
 * @param {number} seq
 */
export async function jumpTo(seq) {
  const chatId = state.open;
  if (!chatId) {
    return;
  }
  const item = state.shown.get(seq);
  if (item) {
    flash(item);
    return;
  }
  await openChat(chatId, seq);
}

/**
 * Pins a message of the open chat, or unpins it when it is pinned.
 * @param {number} seq
 */
export async function togglePin(seq) {
  const chatId = state.open;
  const message = state.messages.get(seq);
  if (!chatId || !message) {
    return;
  }
  try {
    if (isPinned(message)) {
      await client().unpinMessage(chatId, seq);
      await applyPin(chatId, seq, null, null);
    } else {
      const pinned = await client().pinMessage(chatId, seq);
      await applyPin(chatId, seq, pinned.pinnedAt ?? null, pinned.pinnedBy ?? null, pinned);
    }
  } catch (error) {
    ui.typing.textContent = error instanceof ParleyError ? error.message : 'Could not pin.';
  }
}

/**
 * A message pinned (`pinnedAt` set) or unpinned (null), by the caller or live: its marker and the pins list.
 * @param {string} chatId
 * @param {number} seq
 * @param {string | null} pinnedAt
 * @param {string | null} pinnedBy
 * @param {MessageView} [view] the message, when the caller has it
 */
export async function applyPin(chatId, seq, pinnedAt, pinnedBy, view) {
  if (state.open !== chatId) {
    return;
  }
  if (pinnedBy) {
    await loadUsers([pinnedBy]);
  }
  const known = state.messages.get(seq);
  if (known && state.shown.has(seq)) {
    showMessage({ ...known, pinnedAt, pinnedBy }, { scroll: false });
  }
  const others = state.pins.filter((message) => message.seq !== seq);
  if (pinnedAt === null) {
    state.pins = others;
    renderPins();
    return;
  }
  const message =
    view ??
    known ??
    (await client()
      .getMessage(chatId, seq)
      .catch(() => null));
  if (!message || state.open !== chatId) {
    return;
  }
  await loadUsers([message.authorId]);
  state.pins = sortPins([...state.pins.filter((pin) => pin.seq !== seq), { ...message, pinnedAt, pinnedBy }]);
  renderPins();
}

/**
 * A message of the open chat edited or deleted: its pin entry follows (a deleted message loses its pin).
 * @param {MessageView} message
 */
export function pinnedMessageChanged(message) {
  if (!state.pins.some((pin) => pin.seq === message.seq)) {
    return;
  }
  state.pins =
    message.deletedAt || message.pinnedAt === null
      ? state.pins.filter((pin) => pin.seq !== message.seq)
      : state.pins.map((pin) => (pin.seq === message.seq ? { ...pin, ...message } : pin));
  renderPins();
}
