import type { FastifyRequest } from 'fastify';
import type { ResumeCursors } from './connection.ts';
import { MAX_RESUME_CHATS } from './protocol.ts';

/** A frame (or a cursor) the server refuses: its message goes back to the client. */
export class FrameError extends Error {}

/** `{ "<chatId>": <lastSeqSeen>, ... }` (or revs) — validated, because it comes straight from a client. */
function parseCursors(value: unknown, field = 'chats', what = 'seq'): Record<string, number> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FrameError(`${field}: must be an object of chat id → last seen ${what}`);
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_RESUME_CHATS) {
    throw new FrameError(`${field}: at most ${MAX_RESUME_CHATS} chats per resume`);
  }
  const cursors: Record<string, number> = {};
  for (const [chatId, seq] of entries) {
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
      throw new FrameError(`${field}.${chatId}: must be a whole number ≥ 0`);
    }
    cursors[chatId] = seq;
  }
  return cursors;
}

/** A resume frame's cursors: `chats` (seqs) and, optionally, `changes` (revs). */
export function parseResume(value: { chats?: unknown; changes?: unknown }): ResumeCursors {
  return {
    chats: parseCursors(value.chats),
    changes: value.changes === undefined ? {} : parseCursors(value.changes, 'changes', 'rev'),
  };
}

/**
 * Resume cursors given at connect: `?resume=` (JSON or the opaque SSE id) or SSE's `Last-Event-ID`. Either a resume
 * frame's cursors (`{"chats": {...}, "changes": {...}}`) or, as before revs, the seqs alone (`{"<chatId>": seq}`).
 */
export function resumeFromRequest(request: FastifyRequest): ResumeCursors | null {
  const query = request.query as Record<string, unknown>;
  const raw =
    (typeof query.resume === 'string' ? query.resume : undefined) ?? request.headers['last-event-id'];
  if (typeof raw !== 'string' || raw === '') {
    return null;
  }
  try {
    const text = raw.trim().startsWith('{') ? raw : Buffer.from(raw, 'base64url').toString('utf8');
    const value: unknown = JSON.parse(text);
    const framed =
      typeof value === 'object' && value !== null && typeof (value as { chats?: unknown }).chats === 'object';
    return framed ? parseResume(value as { chats?: unknown }) : { chats: parseCursors(value), changes: {} };
  } catch (error) {
    throw Object.assign(
      new Error(error instanceof FrameError ? error.message : 'resume: is not a valid cursor'),
      {
        statusCode: 400,
      },
    );
  }
}
