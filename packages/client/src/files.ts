import type { FetchLike } from './api.js';

/** How an upload reports its progress: bytes of the file sent so far, of `total`. */
export type UploadProgress = (sent: number, total: number) => void;

export interface UploadOptions {
  /** The file's name (default: a File's own name, else `file`). */
  name?: string;
  /** Its Content-Type (default: the Blob's `type`, else application/octet-stream). */
  type?: string;
  onProgress?: UploadProgress;
  signal?: AbortSignal;
}

/** The most of the file handed to fetch at once, so that progress moves in steps of at most this. */
const PIECE_BYTES = 64 * 1024;

/** One upload request, as `ParleyClient.uploadFile` hands it over. */
export interface UploadRequest {
  url: string;
  headers: Record<string, string>;
  file: Blob;
  options: UploadOptions;
}

/** What came back: the status and the body's text, for the client to read as any answer. */
export interface UploadAnswer {
  status: number;
  text: string;
}

/** A filename fit for a multipart header: no quotes or line breaks. */
const headerName = (name: string) => name.replace(/[\r\n]/g, ' ').replace(/"/g, '%22');

function partsOf(file: Blob, options: UploadOptions) {
  const boundary = `----parley${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const fileName = (file as Blob & { name?: unknown }).name;
  const name = options.name ?? (typeof fileName === 'string' && fileName !== '' ? fileName : 'file');
  const type = options.type ?? (file.type || 'application/octet-stream');
  const encoder = new TextEncoder();
  const head = encoder.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${headerName(name)}"\r\n` +
      `Content-Type: ${type.replace(/[\r\n]/g, '')}\r\n\r\n`,
  );
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`);
  return { boundary, name, type, head, tail };
}

/** What this client uses of a browser's XMLHttpRequest (declared here: the client is typed without the DOM too). */
interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  upload: { onprogress: ((event: { loaded: number }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  readonly status: number;
  readonly responseText: string;
  abort(): void;
  send(body: FormData): void;
}

const browserXhr = () => (globalThis as { XMLHttpRequest?: new () => XhrLike }).XMLHttpRequest;

/**
 * In a browser: XMLHttpRequest, whose `upload.onprogress` tells how much the browser has sent (fetch cannot tell,
 * and streams request bodies only over HTTP/2).
 */
function viaXhr(request: UploadRequest, Xhr: new () => XhrLike): Promise<UploadAnswer> {
  const { file, options } = request;
  const { name, type } = partsOf(file, options);
  return new Promise((resolve, reject) => {
    const xhr = new Xhr();
    xhr.open('POST', request.url);
    for (const [key, value] of Object.entries(request.headers)) {
      xhr.setRequestHeader(key, value);
    }
    xhr.upload.onprogress = (event) => {
      options.onProgress?.(Math.min(event.loaded, file.size), file.size);
    };
    xhr.onload = () => {
      options.onProgress?.(file.size, file.size);
      resolve({ status: xhr.status, text: xhr.responseText });
    };
    xhr.onerror = () => reject(new Error('the upload failed (network)'));
    xhr.onabort = () => reject(new Error('the upload was aborted'));
    options.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    const form = new FormData();
    form.append('file', type === file.type ? file : new Blob([file], { type }), name);
    xhr.send(form);
  });
}

/**
 * Elsewhere (Node 20+, Deno, Bun): fetch with a streamed multipart body: the head, the file's own stream counted as
 * fetch pulls it (so progress follows what the network takes, never the whole file in memory), then the tail.
 */
async function viaFetch(request: UploadRequest, fetcher: FetchLike): Promise<UploadAnswer> {
  const { file, options } = request;
  const { boundary, head, tail } = partsOf(file, options);
  const reader = file.stream().getReader();
  let sent = 0;
  let pending = new Uint8Array(0);
  let stage: 'head' | 'file' | 'tail' | 'done' = 'head';
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (stage === 'head') {
        stage = 'file';
        controller.enqueue(head);
        options.onProgress?.(0, file.size);
        return;
      }
      if (stage === 'file') {
        if (pending.byteLength === 0) {
          const { done, value } = await reader.read();
          pending = done ? pending : value;
          if (done) {
            stage = 'tail';
          }
        }
        if (pending.byteLength > 0) {
          // At most a piece at a time: a Blob held in memory comes as one chunk, and progress would jump.
          const piece = pending.subarray(0, PIECE_BYTES);
          pending = pending.subarray(piece.byteLength);
          sent += piece.byteLength;
          controller.enqueue(piece);
          options.onProgress?.(sent, file.size);
          return;
        }
      }
      if (stage === 'tail') {
        stage = 'done';
        controller.enqueue(tail);
        controller.close();
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  const init = {
    method: 'POST',
    headers: { ...request.headers, 'content-type': `multipart/form-data; boundary=${boundary}` },
    body,
    // Required by fetch for a streamed request body.
    duplex: 'half',
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const response = await fetcher(request.url, init as RequestInit);
  return { status: response.status, text: await response.text() };
}

/** Sends one upload: XMLHttpRequest in browsers (unless a fetch of one's own was given), else a streamed fetch. */
export function sendUpload(
  request: UploadRequest,
  fetcher: FetchLike,
  ownFetch: boolean,
): Promise<UploadAnswer> {
  const Xhr = browserXhr();
  if (!ownFetch && Xhr) {
    return viaXhr(request, Xhr);
  }
  return viaFetch(request, fetcher);
}
