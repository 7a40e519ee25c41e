import type { Actor } from '../auth/actor.ts';
import type { ServerEvent } from './protocol.ts';

/** How frames leave: a WebSocket or an SSE response. */
export interface Transport {
  send(frame: string, cursor?: () => string): void;
  bufferedAmount(): number;
  close(code: number, reason: string): void;
}

/** A change waiting for its turn: its frame, and the seq of the message it is about (it goes out after it). */
export interface PendingChange {
  data: string;
  seq: number | null;
}

/** The empty map every stream starts with: one for all, written never (a stream gets its own map to hold anything). */
class NothingHeld<V> extends Map<number, V> {
  override set(): this {
    throw new Error('a stream holds events in a map of its own');
  }
}
const NO_EVENTS = new NothingHeld<ServerEvent>();
const NO_CHANGES = new NothingHeld<PendingChange>();

/**
 * One chat as one connection sees it: the highest seq delivered and the highest change rev delivered, and what
 * waits for a gap to close. A user follows every chat they are in on each of their connections, and almost every
 * stream holds nothing almost always: the maps of what waits are allocated when something first does.
 */
export class ChatStream {
  /** Where the stream stood when the connection subscribed: replays below it come from the database. */
  floor: number;
  /** Messages not delivered yet, by seq: `hold` adds one. */
  pending: Map<number, ServerEvent> = NO_EVENTS;
  /** Where the chat's changes stood when the connection subscribed. */
  revFloor: number;
  /** Changes (events with a `rev`) not delivered yet, by rev: `holdChange` adds one. */
  changes: Map<number, PendingChange> = NO_CHANGES;
  /**
   * Events about a message that are not changes (`read.updated`), waiting for that message to go out: they are
   * sent, in arrival order, once `last` reaches their seq.
   */
  waiting: PendingChange[] = [];
  filling = false;
  gapTimer: NodeJS.Timeout | null = null;

  constructor(
    public last: number,
    public lastRev = 0,
  ) {
    this.floor = last;
    this.revFloor = lastRev;
  }

  hold(seq: number, e: ServerEvent): void {
    if (this.pending === NO_EVENTS) {
      this.pending = new Map();
    }
    this.pending.set(seq, e);
  }

  holdChange(rev: number, change: PendingChange): void {
    if (this.changes === NO_CHANGES) {
      this.changes = new Map();
    }
    this.changes.set(rev, change);
  }

  /** Nothing waits and no fill runs: the next message can go out as it arrives. */
  get idle(): boolean {
    return !this.filling && this.pending.size === 0 && this.changes.size === 0 && this.waiting.length === 0;
  }
}

/** Where a client resumes: per chat, the last seq seen and (optionally) the last change rev seen. */
export interface ResumeCursors {
  chats: Record<string, number>;
  changes: Record<string, number>;
}

export class Connection {
  readonly chats = new Map<string, ChatStream>();
  /** Message events wait while the client may still send `resume` (WebSocket only). */
  holding = false;
  closed = false;
  /** Frames that arrived before `ready` went out: `ready` is always the first frame a client sees. */
  early: { data: string; withCursor: boolean }[] | null = [];
  private holdTimer: NodeJS.Timeout | null = null;
  private readonly typingAt = new Map<string, number>();
  /** `cursors`, bound once: what an SSE event id is made of when a frame carries one. */
  readonly cursor = (): string => this.cursors();

  constructor(
    readonly actor: Actor,
    readonly transport: Transport,
  ) {}

  get userKey(): string {
    return `${this.actor.tenantId}\u0000${this.actor.userId}`;
  }

  /**
   * The per-chat cursors, for an SSE event id: `Last-Event-ID` brings them back on reconnect. The JSON of a resume
   * frame's cursors (`{"chats": {...}, "changes": {...}}`), base64url-encoded.
   */
  cursors(): string {
    const cursors: ResumeCursors = { chats: {}, changes: {} };
    for (const [chatId, stream] of this.chats) {
      if (stream.last > 0) {
        cursors.chats[chatId] = stream.last;
      }
      if (stream.lastRev > 0) {
        cursors.changes[chatId] = stream.lastRev;
      }
    }
    return Buffer.from(JSON.stringify(cursors)).toString('base64url');
  }

  hold(ms: number, release: () => void): void {
    this.holding = true;
    this.holdTimer = setTimeout(release, ms);
    this.holdTimer.unref();
  }

  stopHolding(): boolean {
    if (this.holdTimer) {
      clearTimeout(this.holdTimer);
      this.holdTimer = null;
    }
    const was = this.holding;
    this.holding = false;
    return was;
  }

  typingAllowed(chatId: string, intervalMs: number, now = Date.now()): boolean {
    const last = this.typingAt.get(chatId) ?? 0;
    if (now - last < intervalMs) {
      return false;
    }
    this.typingAt.set(chatId, now);
    return true;
  }

  clearTimers(): void {
    this.stopHolding();
    for (const stream of this.chats.values()) {
      if (stream.gapTimer) {
        clearTimeout(stream.gapTimer);
      }
    }
  }
}

/** One serialisation per event, however many connections it goes to. */
const serialized = new WeakMap<ServerEvent, string>();

export function frame(e: ServerEvent, payload?: object): string {
  if (payload) {
    return JSON.stringify({ type: e.type, ...payload });
  }
  let text = serialized.get(e);
  if (text === undefined) {
    text = JSON.stringify({ type: e.type, ...e.payload });
    serialized.set(e, text);
  }
  return text;
}

/** The seq of a message.created, or null for any other event. */
export function seqOf(e: ServerEvent): number | null {
  return e.type === 'message.created' ? e.payload.message.seq : null;
}

/** A change's rev (any event whose payload carries a `rev`), or null for any other event. */
export function revOf(e: ServerEvent): number | null {
  const rev = (e.payload as { rev?: unknown }).rev;
  return typeof rev === 'number' ? rev : null;
}

/**
 * The seq of the message a change is about, by the payload's convention (`replySeq` for a thread's summary, else `seq`, or `message.seq`), or null: the
 * change goes out on a connection only after that message's `message.created`.
 */
export function aboutSeq(payload: object): number | null {
  const { seq, message, replySeq } = payload as {
    seq?: unknown;
    message?: { seq?: unknown };
    replySeq?: unknown;
  };
  if (typeof replySeq === 'number') {
    return replySeq;
  }
  if (typeof seq === 'number') {
    return seq;
  }
  return typeof message?.seq === 'number' ? message.seq : null;
}
