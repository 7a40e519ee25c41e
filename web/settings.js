// @ts-check
// Your own settings of a chat, from the chat header's menu: mute for an hour, a day or until you unmute (a 🔕 in the
// list, out of the title's count), archive (the chat moves to the list's "Archived" section) and hide (out of the
// list until its next message); in a direct chat, block or unblock its other member.
import { ParleyError } from './parley-client.js';
import { renderChats } from './chats.js';
import { ui } from './dom.js';
import { otherOf, toggleBlock } from './moderation.js';
import { clockOf } from './names.js';
import { state, client } from './state.js';

/**
 * @typedef {import('./parley-client.js').ChatSettingsView} ChatSettingsView
 */

function openChatMenu() {
  const chat = state.open ? state.chats.get(state.open) : null;
  if (!chat) {
    return;
  }
  const muted = chat.settings?.muted ?? false;
  const until = chat.settings?.mutedUntil ?? null;
  ui.chatMutedUntil.hidden = !muted;
  ui.chatMutedUntil.textContent = until ? `Muted until ${clockOf(until)}` : 'Muted until you unmute';
  ui.chatMuteHour.hidden = muted;
  ui.chatMuteDay.hidden = muted;
  ui.chatMute.textContent = muted ? 'Unmute' : 'Mute until I unmute';
  ui.chatArchive.textContent = chat.settings?.archived ? 'Unarchive' : 'Archive';
  const other = chat.kind === 'direct' ? otherOf(chat.id) : null;
  ui.chatBlock.hidden = other === null;
  ui.chatBlock.textContent = other && state.blocks.has(other) ? 'Unblock' : 'Block';
  ui.chatMenu.hidden = false;
  ui.chatOptions.setAttribute('aria-expanded', 'true');
  const box = ui.chatOptions.getBoundingClientRect();
  ui.chatMenu.style.left = `${Math.max(8, box.right - ui.chatMenu.offsetWidth)}px`;
  ui.chatMenu.style.top = `${box.bottom + 4}px`;
  (muted ? ui.chatMute : ui.chatMuteHour).focus();
}

export function closeChatMenu() {
  ui.chatMenu.hidden = true;
  ui.chatOptions.setAttribute('aria-expanded', 'false');
}

ui.chatOptions.addEventListener('click', (event) => {
  event.stopPropagation();
  if (ui.chatMenu.hidden) {
    openChatMenu();
  } else {
    closeChatMenu();
  }
});
document.addEventListener('click', (event) => {
  if (!ui.chatMenu.hidden && event.target instanceof Node && !ui.chatMenu.contains(event.target)) {
    closeChatMenu();
  }
});
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && !ui.chatMenu.hidden) {
    closeChatMenu();
  }
});

/**
 * Changes the open chat's settings; the answer (and `settings.updated` on your other devices) applies them.
 * @param {import('./parley-client.js').UpdateChatSettingsBody} change
 */
async function change(change) {
  const chatId = state.open;
  closeChatMenu();
  if (!chatId) {
    return;
  }
  try {
    applySettings(chatId, await client().updateChatSettings(chatId, change));
  } catch (error) {
    ui.typing.textContent = error instanceof ParleyError ? error.message : 'Could not change the settings.';
  }
}

ui.chatMute.addEventListener('click', () => {
  const chat = state.open ? state.chats.get(state.open) : null;
  void change({ muted: !chat?.settings?.muted });
});
/** Mutes the open chat for a while: the server unmutes it then, and the page shows it unmuted after that time. */
for (const [button, hours] of /** @type {const} */ ([
  [ui.chatMuteHour, 1],
  [ui.chatMuteDay, 24],
])) {
  button.addEventListener('click', () => {
    void change({ muted: true, mutedUntil: new Date(Date.now() + hours * 3600_000).toISOString() });
  });
}
ui.chatHide.addEventListener('click', () => {
  const chatId = state.open;
  void change({ hidden: true }).then(() => {
    // Out of sight: the chat closes, and comes back to the list with its next message.
    if (chatId && state.open === chatId && state.chats.get(chatId)?.settings?.hidden) {
      ui.back.click();
    }
  });
});
ui.chatBlock.addEventListener('click', () => {
  closeChatMenu();
  void toggleBlock();
});
ui.chatArchive.addEventListener('click', () => {
  const chat = state.open ? state.chats.get(state.open) : null;
  void change({ archived: !chat?.settings?.archived });
});

/**
 * @param {string} chatId
 * @param {ChatSettingsView} settings
 */
export function applySettings(chatId, settings) {
  const chat = state.chats.get(chatId);
  if (!chat) {
    return;
  }
  chat.settings = settings;
  renderChats();
  clearTimeout(unmuteTimers.get(chatId));
  const ends = settings.muted && settings.mutedUntil ? Date.parse(settings.mutedUntil) - Date.now() : NaN;
  if (ends > 0 && ends < 2 ** 31) {
    // A timed mute ends by itself: the server counts the chat again then, and so does the page.
    unmuteTimers.set(
      chatId,
      window.setTimeout(() => applySettings(chatId, { ...settings, muted: false, mutedUntil: null }), ends),
    );
  }
}

/** @type {Map<string, number>} chat id → the timer that ends its timed mute on the page */
const unmuteTimers = new Map();
