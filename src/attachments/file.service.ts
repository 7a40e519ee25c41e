import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Actor } from '../auth/actor.ts';
import { requireMember } from '../chats/chat.access.ts';
import type { Context } from '../context.ts';
import { AppError, forbidden, invalid, notFound } from '../errors/codes.ts';
import { newId } from '../ids.ts';
import { limitsFor, typeAccepted, type FilesConfig } from './attachment.config.ts';
import { presentFile } from './file.presenter.ts';
import {
  deleteUnreferencedBlobs,
  deleteUnreferencedFiles,
  findShownFile,
  insertUpload,
  referenceBlob,
} from './file.repository.ts';
import type { FileView } from './file.schema.ts';
import { HEAD_BYTES, imageDimensions, INLINE_TYPES, sniffImage } from './file.sniff.ts';
import type { FileStore } from './file.store.ts';

/** What the services of files are given beside the context: the store and its configuration. */
export interface Files {
  store: FileStore;
  config: FilesConfig;
}

function filesOf(ctx: Context): Files {
  if (!ctx.files) {
    throw new AppError('unavailable', 'file uploads are not available on this server');
  }
  return ctx.files;
}

/** The caller's tenant's limits on uploads. */
export function uploadLimits(ctx: Context, actor: Actor) {
  return limitsFor(filesOf(ctx).config, actor.tenantId);
}

/** Who may upload to a chat: its members (404 for anyone else). */
export async function requireUploader(ctx: Context, actor: Actor, chatId: string): Promise<void> {
  filesOf(ctx);
  await requireMember(ctx.db, actor, chatId);
}

/** One file of a multipart body, as the route hands it over. */
export interface UploadInput {
  chatId: string;
  /** The file's bytes. */
  source: Readable;
  /** Its name and type as the client declared them. */
  filename: string;
  declaredType: string;
  /** Whether the multipart reader stopped at its size limit. */
  truncated(): boolean;
}

/** The name kept for a file: its last path segment, without control characters or quotes, at most 200 chars. */
export function sanitizeName(raw: string): string {
  const base = raw.normalize('NFC').split(/[/\\]/).pop() ?? '';
  const clean = base
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f"<>|*?:]/g, '_')
    .replace(/^\.+/, '')
    .trim();
  return [...clean].slice(0, 200).join('') || 'file';
}

const DECLARED_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;

/**
 * The type a file is kept with: an image type only when the bytes are that image; otherwise the declared type,
 * except that a declared image (SVG, an image the bytes are not) is kept as application/octet-stream, which is
 * never shown inline.
 */
export function effectiveType(head: Buffer, declared: string): string {
  const sniffed = sniffImage(head);
  if (sniffed) {
    return sniffed;
  }
  const type = declared.split(';')[0]!.trim().toLowerCase();
  if (!DECLARED_TYPE.test(type) || type.startsWith('image/') || /html|xml|javascript/.test(type)) {
    return 'application/octet-stream';
  }
  return type;
}

const tooLarge = (max: number) =>
  new AppError('payload_too_large', `file: larger than this tenant's limit of ${max} bytes`, [
    { limit: 'file_bytes', max },
  ]);

/**
 * An upload to a chat the caller belongs to: streamed to the store (never held whole in memory), hashed as it
 * goes, refused as soon as its type (415) or size (413) shows it is not accepted, then kept once per content and
 * recorded as a file of the chat that no message carries yet. A failed or interrupted upload leaves nothing.
 */
export async function uploadFile(
  ctx: Context,
  actor: Actor,
  input: UploadInput,
  base = '/files',
): Promise<FileView> {
  const { store, config } = filesOf(ctx);
  const limits = limitsFor(config, actor.tenantId);
  let head = Buffer.alloc(0);
  let size = 0;
  let type: string | null = null;
  const decide = () => {
    type = effectiveType(head, input.declaredType);
    if (!typeAccepted(limits.types, type)) {
      throw new AppError('unsupported_media_type', `file: ${type} is not accepted here`, [
        { limit: 'file_types', accepted: limits.types },
      ]);
    }
  };
  const staged = await store.stage(input.source, (chunk) => {
    size += chunk.length;
    if (size > limits.maxBytes) {
      throw tooLarge(limits.maxBytes);
    }
    if (head.length < HEAD_BYTES) {
      head = Buffer.concat([head, chunk.subarray(0, HEAD_BYTES - head.length)]);
    }
    if (type === null && head.length >= 16) {
      decide();
    }
  });
  try {
    if (input.truncated()) {
      throw tooLarge(limits.maxBytes);
    }
    if (staged.size === 0) {
      throw invalid('file: is empty');
    }
    if (type === null) {
      decide();
    }
    const contentType = type ?? 'application/octet-stream';
    const dimensions = imageDimensions(contentType, head);
    const id = newId();
    await ctx.db.transaction().execute(async (trx) => {
      await requireMember(trx, actor, input.chatId);
      await referenceBlob(trx, staged.sha256, staged.size);
      const created = await staged.commit();
      try {
        await insertUpload(trx, {
          id,
          tenantId: actor.tenantId,
          chatId: input.chatId,
          sha256: staged.sha256,
          size: staged.size,
          contentType,
          name: sanitizeName(input.filename),
          width: dimensions?.width ?? null,
          height: dimensions?.height ?? null,
          createdBy: actor.userId,
        });
      } catch (error) {
        if (created) {
          await store.remove(staged.sha256);
        }
        throw error;
      }
    });
    return await getFile(ctx, actor, id, base);
  } finally {
    await staged.discard();
  }
}

/** Whether a file of this type is shown inline (images Parley recognized) rather than downloaded. */
export const isInline = (contentType: string) => (INLINE_TYPES as readonly string[]).includes(contentType);

/** Link expiries are rounded up to the minute, so that a page asking again soon gets the same (cached) URL. */
const EXPIRY_STEP = 60;

function signature(secret: string, id: string, exp: number): string {
  return createHmac('sha256', secret).update(`${id}.${exp}`).digest('base64url');
}

/** A download link for file `id`, valid `urlTtlSeconds` (to the next whole minute), relative to the server. */
export function signLink(config: FilesConfig, base: string, id: string, now = Date.now()) {
  const exp = Math.ceil((now / 1000 + config.urlTtlSeconds) / EXPIRY_STEP) * EXPIRY_STEP;
  const query = `exp=${exp}&sig=${signature(config.secret, id, exp)}`;
  return { url: `${base}/${encodeURIComponent(id)}?${query}`, expiresAt: new Date(exp * 1000) };
}

/** Where download links point: set by the plugin to its mount prefix + `/files`. */
export interface LinkBase {
  base: string;
}

/** A file of a chat the caller belongs to, with a fresh download link; 404 for anyone else. */
export async function getFile(ctx: Context, actor: Actor, id: string, base = '/files'): Promise<FileView> {
  const { config } = filesOf(ctx);
  const row = await findShownFile(ctx.db, id, { tenantId: actor.tenantId, userId: actor.userId });
  if (!row) {
    throw notFound(`file ${id} not found`);
  }
  return presentFile(row, signLink(config, base, id));
}

export interface Download {
  stream: Readable;
  size: number;
  contentType: string;
  name: string;
  sha256: string;
  inline: boolean;
  expiresAt: Date;
}

/**
 * The content behind a signed link: 403 for a link that is forged or expired, 404 for a file no longer shown (its
 * message deleted, the file or its chat deleted, swept).
 */
export async function openDownload(ctx: Context, id: string, exp: string, sig: string): Promise<Download> {
  const { store, config } = filesOf(ctx);
  const expires = Number(exp);
  const expected = Buffer.from(signature(config.secret, id, expires));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw forbidden('this download link is not valid');
  }
  if (expires * 1000 < Date.now()) {
    throw forbidden('this download link has expired: ask for a new one (GET /v1/files/{id})');
  }
  const row = await findShownFile(ctx.db, id);
  const content = row ? await store.open(row.sha256) : null;
  if (!row || !content) {
    throw notFound(`file ${id} not found`);
  }
  const contentType = row.content_type ?? 'application/octet-stream';
  return {
    stream: content.stream,
    size: content.size,
    contentType,
    name: row.name ?? 'file',
    sha256: row.sha256,
    inline: isInline(contentType),
    expiresAt: new Date(expires * 1000),
  };
}

/**
 * One pass of the sweeper: uploaded files no message has referenced for the grace period are forgotten, then the
 * contents nothing names any more are removed from the store (a batch at a time). Returns what it removed.
 */
export async function sweepFiles(ctx: Context): Promise<{ files: number; contents: number }> {
  const { store, config } = filesOf(ctx);
  const files = await deleteUnreferencedFiles(ctx.db, config.graceSeconds);
  let contents = 0;
  for (;;) {
    const removed = await ctx.db.transaction().execute(async (trx) => {
      const keys = await deleteUnreferencedBlobs(trx, config.graceSeconds, 100);
      for (const key of keys) {
        await store.remove(key);
      }
      return keys.length;
    });
    contents += removed;
    if (removed < 100) {
      return { files, contents };
    }
  }
}

/** Runs `sweepFiles` every `sweepSeconds` (none when 0), one pass at a time; stop it with `clearInterval`. */
export function scheduleSweeper(ctx: Context, config: FilesConfig): NodeJS.Timeout | null {
  if (config.sweepSeconds === 0) {
    return null;
  }
  let running = false;
  const timer = setInterval(() => {
    if (running) {
      return;
    }
    running = true;
    sweepFiles(ctx)
      .then(
        (removed) => {
          if (removed.files > 0 || removed.contents > 0) {
            ctx.log.debug(removed, 'unreferenced files swept');
          }
        },
        (error: unknown) => ctx.log.warn({ err: error }, 'sweeping unreferenced files failed'),
      )
      .finally(() => {
        running = false;
      });
  }, config.sweepSeconds * 1000);
  timer.unref();
  return timer;
}
