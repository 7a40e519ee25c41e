// @ts-check
// Your own settings of a chat, from the chat header's menu: mute (a 🔕 in the list, out of the title's count) and
// archive (the chat moves to the list's "Archived" section); in a direct chat, block or unblock its other member.
import { ParleyError } from './parley-client.js';
import { renderChats } from './chats.js';
import { ui } from './dom.js';
import { otherOf, toggleBlock } from './moderation.js';
import { state, client } from './state.js';

/**
 * @typedef {import('./parley-client.js').ChatSettingsView} ChatSettingsView
 */

function openChatMenu() {
  const chat = state.open ? state.chats.get(state.open) : null;
  if (!chat) {
    return;
  }
  ui.chatMute.textContent = chat.settings?.muted ? 'Unmute' : 'Mute';
  ui.chatArchive.textContent = chat.settings?.archived ? 'Unarchive' : 'Archive';
  const other = chat.kind === 'direct' ? otherOf(chat.id) : null;
  ui.chatBlock.hidden = other === null;
  ui.chatBlock.textContent = other && state.blocks.has(other) ? 'Unblock' : 'Block';
  ui.chatMenu.hidden = false;
  ui.chatOptions.setAttribute('aria-expanded', 'true');
  const box = ui.chatOptions.getBoundingClientRect();
  ui.chatMenu.style.left = `${Math.max(8, box.right - ui.chatMenu.offsetWidth)}px`;
  ui.chatMenu.style.top = `${box.bottom + 4}px`;
  ui.chatMute.focus();
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
}
