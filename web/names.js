// @ts-check
// Names, avatars, times.
import { state } from './state.js';

/**
 * @typedef {import('./parley-client.js').ChatView} ChatView
 */

/** @param {string} userId */
export function nameOf(userId) {
  return state.users.get(userId)?.displayName ?? state.users.get(userId)?.username ?? userId;
}

/**
 * "1 member", "2 members".
 * @param {number} count
 * @param {string} noun
 */
export function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** @param {string} text */
export function hue(text) {
  let h = 0;
  for (const char of text) {
    h = (h * 31 + (char.codePointAt(0) ?? 0)) % 360;
  }
  return `hsl(${h} 62% 52%)`;
}

/**
 * @param {HTMLElement} avatar
 * @param {string} label
 * @param {string | null} [presenceOf] a user whose presence the avatar shows
 */
export function paintAvatar(avatar, label, presenceOf = null) {
  const initials = label
    .split(/[\s._@-]+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((part) => part[0]?.toUpperCase() ?? '')
    .join('');
  avatar.textContent = initials || '?';
  avatar.style.setProperty('--hue', hue(label));
  const status = presenceOf === null ? null : state.users.get(presenceOf)?.status;
  avatar.classList.toggle('online', status === 'online');
  avatar.classList.toggle('busy', status === 'busy');
  return avatar;
}

/** @param {ChatView} chat */
export function otherMember(chat) {
  return (state.members.get(chat.id) ?? []).find((id) => id !== state.me?.id) ?? null;
}

/** @param {ChatView} chat */
export function titleOf(chat) {
  if (chat.name) {
    return chat.name;
  }
  const other = otherMember(chat);
  return other ? nameOf(other) : 'Direct chat';
}

/** @param {string | null} iso */
export function timeOf(iso) {
  if (!iso) {
    return '';
  }
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  return today
    ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

/** `HH:MM`, with the date in front when it is not today. @param {string} iso */
export function clockOf(iso) {
  const at = new Date(iso);
  const time = `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
  if (at.toDateString() === new Date().toDateString()) {
    return time;
  }
  return `${at.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}`;
}
