// @ts-check
// The open chat: its header, its history (older pages on scroll, newer after a search hit), reading it.
import { typistsIn, renderChats } from './chats.js';
import { setComposing } from './composer.js';
import { ui } from './dom.js';
import { closeMenu } from './menu.js';
import { mentionCounts } from './mentions.js';
import { showUploads } from './files.js';
import { showRefusal } from './moderation.js';
import { showMessage } from './message-view.js';
import { nameOf, plural, paintAvatar, otherMember, titleOf } from './names.js';
import { loadPins, renderPins, showPinsPanel } from './pins.js';
import { loadReceipts, renderSeen } from './receipts.js';
import { showThreadPanel } from './thread.js';
import { PAGE_SIZE, state, client, loadUsers, refreshUsers, loadMembers, statusLine } from './state.js';

/**
 * @typedef {import('./parley-client.js').MessageView} MessageView
 */

/**
 * @param {string} chatId
 * @param {number | null} [focusSeq] a message to show and highlight (from a search hit)
 */
export async function openChat(chatId, focusSeq = null) {
  const chat = state.chats.get(chatId);
  if (!chat) {
    return;
  }
  state.open = chatId;
  state.shown.clear();
  state.messages.clear();
  state.atEnd = true;
  state.pins = [];
  state.readers = new Map();
  setComposing(null);
  closeMenu();
  showPinsPanel(false);
  showThreadPanel(false);
  renderPins();
  ui.messages.replaceChildren();
  showPane(true);
  showUploads();
  await loadMembers(chatId);
  if (chat.kind === 'direct') {
    // A status message changes without an event to others: the latest when the chat is opened.
    await refreshUsers((state.members.get(chatId) ?? []).filter((id) => id !== state.me?.id));
  }
  renderHead();
  renderChats();
  // Why a send was refused stays with that send; being muted here, or blocking the other member, is shown again.
  showRefusal(chatId, null);
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
    flash(focused);
  } else {
    ui.messages.scrollTop = ui.messages.scrollHeight;
  }
  renderTyping();
  if (matchMedia('(hover: hover)').matches) {
    ui.composerText.focus();
  }
  await Promise.all([loadPins(chatId), loadReceipts(chatId), markRead()]);
  await fillScreen();
}

/**
 * Brings a message on screen into view and highlights it for a moment.
 * @param {HTMLElement} item
 */
export function flash(item) {
  item.scrollIntoView({ block: 'center' });
  item.classList.add('flash');
  setTimeout(() => item.classList.remove('flash'), 2000);
}

/** Pages in older history until the list can scroll (a tall window shows more than one page). */
export async function fillScreen() {
  while (state.open && ui.messages.scrollHeight <= ui.messages.clientHeight && lowestShown() > 1) {
    if (!(await loadOlder())) {
      return;
    }
  }
}

export function lowestShown() {
  return Math.min(Infinity, ...state.shown.keys());
}

/**
 * The page before the oldest message on screen, the reader's place kept where it was. Done at seq 1.
 * @returns {Promise<boolean>} whether messages were added
 */
export async function loadOlder() {
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
export async function loadNewer() {
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
    renderSeen();
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
export function showPane(open) {
  ui.empty.hidden = open;
  for (const part of [ui.chatHead, ui.messages, ui.typing, ui.composer]) {
    part.hidden = !open;
  }
  if (!open) {
    ui.composerContext.hidden = true;
    ui.composerNotice.hidden = true;
    showPinsPanel(false);
    showThreadPanel(false);
  }
  // A phone shows either the chat list or the chat.
  ui.app.classList.toggle('in-chat', open);
}

/** Back to the chat list (a phone's back button). */
export function closeChat() {
  state.open = null;
  state.shown.clear();
  state.messages.clear();
  closeMenu();
  ui.messages.replaceChildren();
  showPane(false);
  renderChats();
}

ui.back.addEventListener('click', closeChat);

export function renderHead() {
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

/** Reads the open chat up to its last message, while the page is being looked at. */
export async function markRead() {
  const chat = state.open ? state.chats.get(state.open) : null;
  const last = Math.max(0, ...state.shown.keys());
  if (!chat || document.visibilityState !== 'visible' || last <= chat.lastReadSeq) {
    return;
  }
  const read = await client().markRead(chat.id, last);
  chat.lastReadSeq = read.lastReadSeq;
  chat.unreadCount = read.unreadCount;
  mentionCounts.set(chat.id, 0);
  renderChats();
}

document.addEventListener('visibilitychange', () => void markRead());

export function renderTyping() {
  const typists = state.open ? typistsIn(state.open) : [];
  ui.typing.textContent =
    typists.length === 0
      ? ''
      : `${typists.map(nameOf).join(', ')} ${typists.length === 1 ? 'is' : 'are'} typing…`;
}
