// @ts-check
// Mentions: `@name` autocomplete in a composer, mentions in a message's text, unread mention counts per chat.
import { el } from './dom.js';
import { nameOf, paintAvatar } from './names.js';
import { state, client } from './state.js';

/**
 * @typedef {import('./parley-client.js').MessageView} MessageView
 * @typedef {import('./parley-client.js').UserView} UserView
 */

/** What a `@name` may hold (as the server reads it), and the `@` that starts a word. */
const MENTION = /(^|[^\w@])(@[\w.@+-]+)/g;
/** The `@name` being typed just before the caret. */
const TYPING = /(?:^|\s)@([\w.@+-]*)$/;

/** @type {Map<string, number>} chat id → unread messages that mention you */
export const mentionCounts = new Map();

/** The unread mentions of every chat, from the server (whose unread summary it answers). */
export async function loadMentionCounts() {
  const unread = await client().unread();
  mentionCounts.clear();
  for (const chat of unread.chats) {
    mentionCounts.set(chat.chatId, chat.mentionCount);
  }
  return unread;
}

/** @param {MessageView} message */
export function mentionsMe(message) {
  const me = state.me?.id ?? '';
  return message.authorId !== me && (message.mentionsAll === true || (message.mentions ?? []).includes(me));
}

/**
 * A message's text, its `@name`s of members marked (yours highlighted).
 * @param {MessageView} message
 * @returns {(Node | string)[]}
 */
export function textWithMentions(message) {
  const text = message.text ?? 'This message was deleted.';
  if (message.deletedAt || !text.includes('@')) {
    return [text];
  }
  const mentioned = new Set(message.mentions ?? []);
  const me = state.me?.id ?? '';
  /** @type {(Node | string)[]} */
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(MENTION)) {
    const lead = match[1] ?? '';
    const written = match[2] ?? '';
    const start = (match.index ?? 0) + lead.length;
    const name = written
      .slice(1)
      .replace(/[.,!?:;+-]+$/, '')
      .toLowerCase();
    const user = [...state.users.values()].find((known) => known.username.toLowerCase() === name);
    const everyone = (name === 'all' && message.mentionsAll) || (name === 'here' && message.mentionsHere);
    if (!everyone && !(user && mentioned.has(user.id))) {
      continue;
    }
    const token = `@${written.slice(1, name.length + 1)}`;
    parts.push(text.slice(last, start));
    const yours = everyone || user?.id === me;
    parts.push(el('span', { class: `mention${yours ? ' mention-me' : ''}` }, [token]));
    last = start + token.length;
  }
  parts.push(text.slice(last));
  return parts;
}

/**
 * Autocomplete for `@` in a textarea: the open chat's members whose username starts with what follows it.
 * @param {HTMLTextAreaElement} input
 * @param {HTMLUListElement} list
 * @returns {(event: KeyboardEvent) => boolean} a keydown handler: true when it took the key
 */
export function attachMentions(input, list) {
  /** @type {UserView[]} */
  let matches = [];
  let active = 0;

  const close = () => {
    matches = [];
    list.hidden = true;
    list.replaceChildren();
  };

  /** @param {UserView} user */
  const choose = (user) => {
    const caret = input.selectionStart ?? input.value.length;
    const before = input.value.slice(0, caret).replace(/@[\w.@+-]*$/, `@${user.username} `);
    input.value = before + input.value.slice(caret);
    input.setSelectionRange(before.length, before.length);
    input.focus();
    close();
  };

  const render = () => {
    list.hidden = matches.length === 0;
    list.replaceChildren(
      ...matches.map((user, index) => {
        const item = el(
          'li',
          {
            role: 'option',
            class: 'mention-option',
            'aria-selected': String(index === active),
            'data-username': user.username,
          },
          [
            paintAvatar(el('span', { class: 'avatar small' }), nameOf(user.id), null),
            el('span', {}, [nameOf(user.id)]),
            el('small', { class: 'muted' }, [`@${user.username}`]),
          ],
        );
        // mousedown, not click: the textarea keeps its focus and caret.
        item.addEventListener('mousedown', (event) => {
          event.preventDefault();
          choose(user);
        });
        return item;
      }),
    );
  };

  input.addEventListener('input', () => {
    const typed = TYPING.exec(input.value.slice(0, input.selectionStart ?? input.value.length));
    const chatId = state.open;
    if (!typed || !chatId) {
      close();
      return;
    }
    const prefix = (typed[1] ?? '').toLowerCase();
    matches = (state.members.get(chatId) ?? [])
      .filter((id) => id !== state.me?.id)
      .flatMap((id) => {
        const user = state.users.get(id);
        return user && user.username.toLowerCase().startsWith(prefix) ? [user] : [];
      })
      .sort((a, b) => a.username.localeCompare(b.username))
      .slice(0, 8);
    active = 0;
    render();
  });
  input.addEventListener('blur', () => setTimeout(close, 150));

  return (event) => {
    if (matches.length === 0) {
      return false;
    }
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      const step = event.key === 'ArrowDown' ? 1 : -1;
      active = (active + step + matches.length) % matches.length;
      render();
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      const user = matches[active];
      if (user) {
        choose(user);
      }
    } else if (event.key === 'Escape') {
      close();
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  };
}
