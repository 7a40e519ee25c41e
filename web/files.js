// @ts-check
// Files: the composer's 📎 uploads files to the open chat (with progress) before the message is sent with them;
// a message shows its images inline and its other files as download links, through short-lived signed links.
import { ParleyError } from './parley-client.js';
import { el, ui } from './dom.js';
import { state, client } from './state.js';

/**
 * @typedef {import('./parley-client.js').MessageFile} MessageFile
 * @typedef {import('./parley-client.js').FileView} FileView
 * @typedef {{ key: number, chatId: string, name: string, sent: number, total: number,
 *   file: FileView | null, error: string | null, abort: AbortController }} Upload
 */

/** The image types a page shows inline (the server reads them from the bytes). */
const IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
/** At most this many files go with one message (the API's limit). */
const MAX_FILES = 10;

/** @type {Upload[]} the composer's files: uploading, uploaded (waiting for the send) or refused */
let uploads = [];
let nextKey = 1;

ui.attach.addEventListener('click', () => ui.fileInput.click());

ui.fileInput.addEventListener('change', () => {
  const chatId = state.open;
  const files = [...(ui.fileInput.files ?? [])];
  ui.fileInput.value = '';
  if (!chatId) {
    return;
  }
  for (const file of files.slice(0, Math.max(0, MAX_FILES - uploads.length))) {
    void upload(chatId, file);
  }
});

/**
 * Uploads one file to the chat, showing its progress in the composer.
 * @param {string} chatId
 * @param {File} file
 */
async function upload(chatId, file) {
  /** @type {Upload} */
  const entry = {
    key: nextKey++,
    chatId,
    name: file.name,
    sent: 0,
    total: file.size,
    file: null,
    error: null,
    abort: new AbortController(),
  };
  uploads.push(entry);
  renderUploads();
  try {
    entry.file = await client().uploadFile(chatId, file, {
      signal: entry.abort.signal,
      onProgress: (sent, total) => {
        entry.sent = sent;
        entry.total = total;
        renderUploads();
      },
    });
  } catch (error) {
    if (entry.abort.signal.aborted) {
      return;
    }
    // 413 too large, 415 a type the tenant does not accept: the API says which and its limit.
    entry.error = error instanceof ParleyError ? error.message : 'upload failed';
  }
  renderUploads();
}

/** The composer's file chips: name, progress or size, why it was refused, and × to drop it. */
function renderUploads() {
  const shown = uploads.filter((entry) => entry.chatId === state.open);
  ui.composerFiles.hidden = shown.length === 0;
  ui.composerFiles.replaceChildren(
    ...shown.map((entry) => {
      const status = entry.error
        ? entry.error
        : entry.file
          ? sizeOf(entry.file.size)
          : `${Math.floor((100 * entry.sent) / Math.max(1, entry.total))}%`;
      const remove = el(
        'button',
        { type: 'button', class: 'ghost small', 'aria-label': `Remove ${entry.name}` },
        ['×'],
      );
      remove.addEventListener('click', () => {
        entry.abort.abort();
        uploads = uploads.filter((other) => other !== entry);
        renderUploads();
      });
      return el(
        'li',
        {
          class: `composer-file${entry.error ? ' refused' : entry.file ? ' ready' : ' uploading'}`,
          'data-name': entry.name,
        },
        [
          el('span', { class: 'name' }, [`📎 ${entry.name}`]),
          el('small', { class: 'status' }, [status]),
          entry.file || entry.error
            ? null
            : el('progress', { max: String(entry.total), value: String(entry.sent) }),
          remove,
        ],
      );
    }),
  );
}

/**
 * The uploaded files to send with the open chat's next message, or null while one is still uploading.
 * @param {string} chatId
 */
export function filesToSend(chatId) {
  const mine = uploads.filter((entry) => entry.chatId === chatId && !entry.error);
  if (mine.some((entry) => entry.file === null)) {
    return null;
  }
  return mine.map((entry) => /** @type {FileView} */ (entry.file));
}

/** The message went with its files: the composer lets them go. @param {string} chatId */
export function filesSent(chatId) {
  uploads = uploads.filter((entry) => entry.chatId !== chatId);
  renderUploads();
}

/** Another chat opened: its own files (if any) show. */
export function showUploads() {
  renderUploads();
}

/** @param {number} bytes */
function sizeOf(bytes) {
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(0)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// ---- files in messages ----------------------------------------------------------------------------------------

/** @type {Map<string, { url: string, until: number }>} file id → a signed link, while it is valid */
const links = new Map();

/**
 * A signed link for a file (asked for again a minute before it expires).
 * @param {MessageFile} file
 */
async function linkOf(file) {
  const known = links.get(file.id);
  if (known && known.until > Date.now() + 60_000) {
    return known.url;
  }
  const view = await client().getFile(file.id);
  const url = client().fileUrl(view);
  links.set(file.id, { url, until: Date.parse(view.urlExpiresAt) });
  return url;
}

/**
 * What a message shows of its files: images inline (their size reserved), other files as download links.
 * @param {{ attachments?: MessageFile[], deletedAt: string | null }} message
 */
export function filesOf(message) {
  const files = message.attachments ?? [];
  if (files.length === 0 || message.deletedAt) {
    return null;
  }
  return el(
    'div',
    { class: 'attachments' },
    files.map((file) => {
      if (IMAGES.has(file.contentType)) {
        const image = el('img', {
          class: 'attachment-image',
          alt: file.name,
          loading: 'lazy',
          ...(file.width && file.height ? { width: String(file.width), height: String(file.height) } : {}),
        });
        void linkOf(file)
          .then((url) => {
            image.setAttribute('src', url);
          })
          .catch(() => image.classList.add('broken'));
        return image;
      }
      const link = el('a', { class: 'attachment-file', download: file.name }, [
        el('span', {}, [`📄 ${file.name}`]),
        el('small', { class: 'muted' }, [sizeOf(file.size)]),
      ]);
      void linkOf(file)
        .then((url) => link.setAttribute('href', url))
        .catch(() => link.classList.add('broken'));
      // A link lives minutes: one clicked later is asked for again first.
      link.addEventListener('click', (event) => {
        const known = links.get(file.id);
        if (known && known.until > Date.now() + 5000) {
          return;
        }
        event.preventDefault();
        void linkOf(file).then((url) => {
          link.setAttribute('href', url);
          link.click();
        });
      });
      return link;
    }),
  );
}
