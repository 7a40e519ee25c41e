// @ts-check
// The composer: send, reply, edit, and the typing signal.
import { ui } from './dom.js';
import { filesSent, filesToSend } from './files.js';
import { openChat } from './history.js';
import { attachMentions } from './mentions.js';
import { quoteText, showMessage } from './message-view.js';
import { refusalText, showRefusal } from './moderation.js';
import { nameOf } from './names.js';
import { state, client } from './state.js';

/** @param {{ kind: 'reply' | 'edit', seq: number } | null} composing */
export function setComposing(composing) {
  // The composer grows or shrinks with its context line: a reader at the newest message stays there.
  const atBottom = ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 80;
  requestAnimationFrame(() => {
    if (atBottom) {
      ui.messages.scrollTop = ui.messages.scrollHeight;
    }
  });
  const previous = state.composing;
  state.composing = composing;
  const message = composing ? state.messages.get(composing.seq) : undefined;
  if (!composing || !message) {
    state.composing = null;
    ui.composerContext.hidden = true;
    if (previous?.kind === 'edit') {
      ui.composerText.value = '';
    }
    return;
  }
  ui.composerContext.hidden = false;
  ui.composerContextTitle.textContent =
    composing.kind === 'edit'
      ? 'Edit message'
      : `Reply to ${message.authorId === state.me?.id ? 'yourself' : nameOf(message.authorId)}`;
  ui.composerContextText.textContent = quoteText(message);
  if (composing.kind === 'edit') {
    ui.composerText.value = message.text ?? '';
  } else if (previous?.kind === 'edit') {
    ui.composerText.value = '';
  }
  ui.composerText.focus();
}

ui.composerContextCancel.addEventListener('click', () => setComposing(null));

ui.composer.addEventListener('submit', async (event) => {
  event.preventDefault();
  const typed = ui.composerText.value.trim();
  const chatId = state.open;
  if (!chatId) {
    return;
  }
  const composing = state.composing;
  const files = composing?.kind === 'edit' ? [] : filesToSend(chatId);
  if (files === null) {
    showRefusal(chatId, 'Wait for the upload to finish, then send.');
    return;
  }
  // A message has text: files sent alone are named in it.
  const text = typed || files.map((file) => file.name).join(', ');
  if (!text) {
    return;
  }
  ui.composerText.value = '';
  setComposing(null);
  try {
    if (composing?.kind === 'edit') {
      const edited = await client().editMessage(chatId, composing.seq, { text });
      if (state.open === chatId) {
        showMessage(edited, { scroll: false });
      }
      return;
    }
    // The clientId makes a retry safe; the stream brings the message too, and the page shows it once by seq.
    const message = await client().sendMessage(chatId, {
      text,
      clientId: crypto.randomUUID(),
      ...(composing?.kind === 'reply' ? { replyTo: composing.seq } : {}),
      ...(files.length > 0 ? { attachments: files.map((file) => file.id) } : {}),
    });
    filesSent(chatId);
    showRefusal(chatId, null);
    if (state.open === chatId) {
      if (!state.atEnd) {
        // Opened at a search hit: jump to the newest messages, where this one is.
        await openChat(chatId);
        return;
      }
      showMessage(message);
    }
  } catch (error) {
    ui.composerText.value = typed;
    // A muted member is told until when; nothing was sent.
    showRefusal(chatId, refusalText(error, chatId));
  }
});

const mentionKeys = attachMentions(ui.composerText, ui.composerMentions);

ui.composerText.addEventListener('keydown', (event) => {
  if (mentionKeys(event)) {
    return;
  }
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    ui.composer.requestSubmit();
  }
});

ui.composerText.addEventListener('input', () => {
  if (state.open && ui.composerText.value !== '') {
    state.stream?.typing(state.open);
  }
});
