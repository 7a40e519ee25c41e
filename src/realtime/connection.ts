import type { Actor } from '../auth/actor.ts';
import type { ServerEvent } from './protocol.ts';

/**
 * Close codes clients act on. Parley's own are 4000 + the HTTP status they stand for: 4008 = too slow, like a 408
 * (reconnect and resume); 4009 = a limit is reached, like a 409 `limit_exceeded` (do not reconnect at once: close
 * another stream first); 4029 = too many frames too fast, like a 429 (reconnect after a pause, and send less).
 * 1001 = server going away (reconnect elsewhere); 1008 = a bad request at connect (do not retry as it is);
 * 1013 = try again later (the database is unavailable: reconnect and resume shortly); 4001 = the user was deleted,
 * like a 401 (do not reconnect: the token is refused).
 */
/** The stream's user was deleted (401: their token names nobody any more). */
export const CLOSE_USER_DELETED = 4001;
export const CLOSE_SLOW_CONSUMER = 4008;
export const CLOSE_LIMIT_EXCEEDED = 4009;
export const CLOSE_RATE_LIMITED = 4029;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_POLICY = 1008;
export const CLOSE_TRY_AGAIN_LATER = 1013;

/** How frames leave: a WebSocket or an SSE response. */
export interface Transport {
  send(frame: string, cursor?: () => string): void;
  bufferedAmount(): number;
  close(code: number, reason: string): void;
}

/** One chat as one connection sees it: the highest seq delivered, and what waits for a gap to close. */
export class ChatStream {
  /** Where the stream stood when the connection subscribed: replays below it come from the database. */
  floor: number;
  pending = new Map<number, ServerEvent>();
  /** Updates and deletes of messages not delivered yet; sent right after their message. */
  deferred: { seq: number; event: ServerEvent }[] = [];
  filling = false;
  gapTimer: NodeJS.Timeout | null = null;

  constructor(public last: number) {
    this.floor = last;
  }
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

  constructor(
    readonly actor: Actor,
    readonly transport: Transport,
  ) {}

  get userKey(): string {
    return `${this.actor.tenantId}\u0000${this.actor.userId}`;
  }

  /** The per-chat cursors, for an SSE event id: `Last-Event-ID` brings them back on reconnect. */
  cursors(): string {
    const map: Record<string, number> = {};
    for (const [chatId, stream] of this.chats) {
      if (stream.last > 0) {
        map[chatId] = stream.last;
      }
    }
    return Buffer.from(JSON.stringify(map)).toString('base64url');
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

export function seqOf(e: ServerEvent): number | null {
  if (e.type === 'message.created' || e.type === 'message.updated' || e.type === 'message.deleted') {
    return e.payload.message.seq;
  }
  return null;
}
