import type { Actor } from '../auth/actor.ts';
import type { ServerEvent } from './protocol.ts';

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
  if (e.type === 'reaction.added' || e.type === 'reaction.removed') {
    return e.payload.seq;
  }
  if (e.type === 'thread.updated') {
    return e.payload.replySeq;
  }
  return null;
}
