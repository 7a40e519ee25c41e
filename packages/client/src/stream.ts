import { connector, type Connector, type WebSocketConstructorLike, type WebSocketLike } from './socket.js';
import { resolveToken } from './token.js';
import type { ClientFrame, StreamFrame, StreamFrameMap, TokenSource } from './types.js';

export interface BackoffOptions {
  /** The first retry waits up to this long (default 500 ms). */
  initialMs?: number;
  /** No retry waits longer (default 30 s). */
  maxMs?: number;
}

export interface StreamOptions {
  /** Where Parley is mounted: `http://localhost:3000`; `ws(s)://` is derived from it. */
  baseUrl: string;
  token: TokenSource;
  /**
   * The WebSocket implementation. Default: the global one (browsers, Node 22+), else the `ws` package when it is
   * installed (Node 20, where it also lets the token travel in the Authorization header instead of `?access_token=`).
   */
  WebSocket?: WebSocketConstructorLike;
  /** Per chat, the last seq already seen (say, from the history on screen): the stream continues after it. */
  cursors?: Record<string, number>;
  /**
   * Per chat, the last change `rev` already seen (edits, deletions, reactions: `changePositions()` of an earlier
   * stream): the stream replays the changes after it.
   */
  changes?: Record<string, number>;
  backoff?: BackoffOptions;
  /**
   * A connection that brings no frame for this long is presumed dead, whatever TCP says; the stream sends a `ping`
   * every third of it, so a quiet chat still hears `pong` (default 45 s; 0: no pings, no timeout).
   */
  idleTimeoutMs?: number;
  /** How long connecting may take until `ready` (default 10 s). */
  connectTimeoutMs?: number;
  /** At most one typing frame per chat in this interval (default 1 s, the server's default limit). */
  typingIntervalMs?: number;
  /** For tests: the source of jitter. */
  random?: () => number;
}

/** Why the stream is down, and when it tries again (null: it does not, `close()` was called). */
export interface DisconnectEvent {
  code: number;
  reason: string;
  reconnectInMs: number | null;
}

/** Every frame by its type (the server's own map, README "Real-time stream"), plus the stream's own events. */
export type StreamEventMap = { [K in keyof StreamFrameMap]: Extract<StreamFrame, { type: K }> } & {
  /** Every frame the server sends, before its own event. */
  frame: StreamFrame;
  /** The connection is down; it reconnects after `reconnectInMs` unless closed. */
  disconnect: DisconnectEvent;
};

export type StreamState = 'idle' | 'connecting' | 'resuming' | 'live' | 'waiting' | 'closed';

/** Full jitter: a random wait between 0 and the exponential ceiling for this attempt (0 for the first). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random = Math.random): number {
  const initial = options.initialMs ?? 500;
  const ceiling = Math.min(options.maxMs ?? 30_000, initial * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** How long a `?resume=` URL may get before the cursors go in a `resume` frame instead. */
const MAX_RESUME_URL = 6000;
const CLOSE_NORMAL = 1000;
/** Our own close code for a connection presumed dead (no frame for too long, or no `ready` in time). */
const CLOSE_TIMEOUT = 4000;
/** The server's close code for a user who was deleted: their token is refused, so reconnecting is pointless. */
const CLOSE_USER_DELETED = 4001;
const OPEN = 1;

type Listener<T> = (event: T) => void;

/**
 * A stream that stays connected: it authenticates, resumes every chat from the last seq it delivered (the server's
 * resume protocol), reconnects with exponential backoff and full jitter, and emits typed events. Each chat's
 * `message.created` events come out once each, in seq order, across any number of reconnects and server restarts.
 */
export class ParleyStream {
  private readonly options: StreamOptions;
  private readonly cursors = new Map<string, number>();
  /** Per chat, the last change rev delivered. */
  private readonly revs = new Map<string, number>();
  /** While a resume runs, messages that arrive ahead of a gap wait here for the replay to fill it. */
  private readonly ahead = new Map<string, Map<number, Extract<StreamFrame, { type: 'message.created' }>>>();
  private readonly listeners = new Map<keyof StreamEventMap, Set<Listener<never>>>();
  private readonly typingAt = new Map<string, number>();
  private socket: WebSocketLike | null = null;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private connecting: Promise<Connector> | null = null;
  private liveWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private current: StreamState = 'idle';
  /** Connections that reached `ready`: 1 after the first, more after reconnects. */
  connections = 0;
  /** Messages dropped because they were already delivered (the server never sends any; a safety net). */
  duplicatesDropped = 0;
  userId: string | null = null;

  constructor(options: StreamOptions) {
    this.options = options;
    for (const [chatId, seq] of Object.entries(options.cursors ?? {})) {
      this.cursors.set(chatId, seq);
    }
    for (const [chatId, rev] of Object.entries(options.changes ?? {})) {
      this.revs.set(chatId, rev);
    }
  }

  get state(): StreamState {
    return this.current;
  }

  /** Starts (if needed) and resolves once the stream is live: connected, resumed, caught up. */
  connect(): Promise<void> {
    if (this.current === 'closed') {
      return Promise.reject(new Error('the stream is closed'));
    }
    const live = new Promise<void>((resolve, reject) => this.liveWaiters.push({ resolve, reject }));
    if (this.current === 'live') {
      this.settleLive();
    } else if (this.current === 'idle') {
      this.open();
    }
    return live;
  }

  /** Stops for good: closes the socket and never reconnects. */
  close(): void {
    if (this.current === 'closed') {
      return;
    }
    this.current = 'closed';
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    socket?.close(CLOSE_NORMAL, 'client closed');
    for (const waiter of this.liveWaiters.splice(0)) {
      waiter.reject(new Error('the stream was closed'));
    }
    this.emit('disconnect', { code: CLOSE_NORMAL, reason: 'client closed', reconnectInMs: null });
  }

  on<K extends keyof StreamEventMap>(type: K, listener: Listener<StreamEventMap[K]>): () => void {
    let set = this.listeners.get(type);
    if (!set) {
      set = new Set();
      this.listeners.set(type, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(type, listener);
  }

  off<K extends keyof StreamEventMap>(type: K, listener: Listener<StreamEventMap[K]>): void {
    this.listeners.get(type)?.delete(listener as Listener<never>);
  }

  /** The last seq delivered per chat: what the next resume continues from. */
  positions(): Record<string, number> {
    return Object.fromEntries(this.cursors);
  }

  /** The last change rev delivered per chat: where the next resume continues the chats' changes from. */
  changePositions(): Record<string, number> {
    return Object.fromEntries(this.revs);
  }

  /** Follows a chat from `seq` (a chat joined or loaded elsewhere); a chat already followed keeps its position. */
  follow(chatId: string, seq = 0): void {
    if (!this.cursors.has(chatId)) {
      this.cursors.set(chatId, seq);
    }
  }

  /** Tells the chat's other members that this user is typing; at most once per `typingIntervalMs`. */
  typing(chatId: string): boolean {
    const now = Date.now();
    if (now - (this.typingAt.get(chatId) ?? 0) < (this.options.typingIntervalMs ?? 1000)) {
      return false;
    }
    if (!this.send({ type: 'typing', chatId })) {
      return false;
    }
    this.typingAt.set(chatId, now);
    return true;
  }

  // ---- connection ----------------------------------------------------------------------------------------------

  private send(frame: ClientFrame): boolean {
    if (!this.socket || this.socket.readyState !== OPEN) {
      return false;
    }
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  private open(): void {
    this.current = 'connecting';
    this.connecting ??= connector(this.options.WebSocket);
    void this.connecting.then(
      async (how) => {
        try {
          const token = await resolveToken(this.options.token);
          if (this.current !== 'connecting') {
            return;
          }
          this.attach(how, token);
        } catch (error) {
          this.lost(0, `could not connect: ${(error as Error).message}`);
        }
      },
      (error: unknown) => this.unusable(error as Error),
    );
  }

  /** No WebSocket to connect with: trying again cannot help, so the stream closes and `connect()` says why. */
  private unusable(error: Error): void {
    if (this.current === 'closed') {
      return;
    }
    this.current = 'closed';
    this.clearTimers();
    for (const waiter of this.liveWaiters.splice(0)) {
      waiter.reject(error);
    }
    this.emit('disconnect', { code: 0, reason: error.message, reconnectInMs: null });
  }

  private attach(how: Connector, token: string): void {
    const url = new URL(`${this.options.baseUrl.replace(/\/+$/, '')}/v1/stream`);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    if (how.tokenInQuery) {
      url.searchParams.set('access_token', token);
    }
    // Resume at connect time: the server replays from these cursors before anything else goes out live.
    const resume = { chats: this.positions(), changes: this.changePositions() };
    const cursors = JSON.stringify(resume);
    const withResume = new URL(url);
    withResume.searchParams.set('resume', cursors);
    const resumeInUrl = withResume.href.length <= MAX_RESUME_URL;
    const socket = how.open((resumeInUrl ? withResume : url).href, token);
    this.socket = socket;
    this.ahead.clear();
    this.watch(this.options.connectTimeoutMs ?? 10_000, socket);

    socket.onmessage = (event: { data: unknown }) => {
      if (socket !== this.socket) {
        return;
      }
      this.watch(this.options.idleTimeoutMs ?? 45_000, socket);
      let frame: StreamFrame;
      try {
        frame = JSON.parse(typeof event.data === 'string' ? event.data : String(event.data)) as StreamFrame;
      } catch {
        return;
      }
      if (frame.type === 'ready' && !resumeInUrl) {
        // Too many chats for a URL: the same cursors as a frame, within the server's grace period.
        this.send({ type: 'resume', ...resume });
      }
      this.receive(frame);
    };
    socket.onclose = (event: { code: number; reason: string }) => {
      if (socket === this.socket) {
        this.lost(event.code, event.reason);
      }
    };
    // An error is always followed by close; nothing to do here but not crash on it.
    socket.onerror = () => {};
  }

  /** Restarts the liveness timer: no frame in `ms` means the connection is dead, whatever TCP says. */
  private watch(ms: number, socket: WebSocketLike): void {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    if (ms <= 0) {
      return;
    }
    this.idleTimer = setTimeout(() => {
      if (socket === this.socket) {
        this.lost(CLOSE_TIMEOUT, 'no answer from the server');
      }
    }, ms);
    (this.idleTimer as { unref?: () => void }).unref?.();
  }

  /** Pings at a third of the idle timeout, so that a live connection always has a frame coming. */
  private keepAlive(): void {
    const idle = this.options.idleTimeoutMs ?? 45_000;
    if (idle <= 0 || this.pingTimer) {
      return;
    }
    this.pingTimer = setInterval(() => this.send({ type: 'ping' }), Math.max(10, Math.floor(idle / 3)));
    (this.pingTimer as { unref?: () => void }).unref?.();
  }

  private lost(code: number, reason: string): void {
    if (this.current === 'closed') {
      return;
    }
    const socket = this.socket;
    this.socket = null;
    this.clearTimers();
    if (socket && socket.readyState <= OPEN) {
      socket.close(CLOSE_TIMEOUT, reason.slice(0, 120));
    }
    // What waited behind a gap was not delivered, so the cursors stand before it: the next resume replays it.
    this.ahead.clear();
    if (code === CLOSE_USER_DELETED) {
      this.current = 'closed';
      this.emit('disconnect', { code, reason, reconnectInMs: null });
      return;
    }
    const delay = backoffDelay(this.attempt, this.options.backoff, this.options.random);
    this.attempt += 1;
    this.current = 'waiting';
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.current === 'waiting') {
        this.open();
      }
    }, delay);
    this.emit('disconnect', { code, reason, reconnectInMs: delay });
  }

  private clearTimers(): void {
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    if (this.pingTimer) {
      clearInterval(this.pingTimer);
      this.pingTimer = null;
    }
  }

  private settleLive(): void {
    for (const waiter of this.liveWaiters.splice(0)) {
      waiter.resolve();
    }
  }

  // ---- frames --------------------------------------------------------------------------------------------------

  private receive(frame: StreamFrame): void {
    switch (frame.type) {
      case 'ready':
        this.current = 'resuming';
        this.userId = frame.userId;
        // Where the server starts the changes of chats this stream knows no rev of: the next resume goes on from it.
        for (const chatId of this.cursors.keys()) {
          if (!this.revs.has(chatId)) {
            this.revs.set(chatId, frame.changes?.[chatId] ?? 0);
          }
        }
        for (const [chatId, rev] of Object.entries(frame.changes ?? {})) {
          if (!this.revs.has(chatId)) {
            this.revs.set(chatId, rev);
          }
        }
        this.connections += 1;
        this.keepAlive();
        this.deliver(frame);
        return;
      case 'resumed':
        this.flushAhead();
        this.current = 'live';
        this.attempt = 0;
        this.deliver(frame);
        this.settleLive();
        return;
      case 'message.created':
        this.created(frame);
        return;
      case 'chat.created':
        // The server streams a new chat from its first message: so does the next resume.
        this.follow(frame.chat.id, 0);
        this.revs.set(frame.chat.id, this.revs.get(frame.chat.id) ?? 0);
        break;
      case 'chat.resync':
        this.revs.set(frame.chatId, Math.max(frame.rev, this.revs.get(frame.chatId) ?? 0));
        break;
      case 'chat.deleted':
        this.forget(frame.chat.id);
        break;
      case 'member.removed':
        if (frame.userId === this.userId) {
          this.forget(frame.chatId);
        }
        break;
      default:
        // Every other event with a `rev` is a change of its chat (edits, deletions, reactions, pins, ...).
        if (isChange(frame)) {
          this.changed(frame);
          return;
        }
        break;
    }
    this.deliver(frame);
  }

  /** In seq order, once each: an old seq is dropped; during a resume, a seq past a gap waits for the gap. */
  private created(frame: Extract<StreamFrame, { type: 'message.created' }>): void {
    const { chatId } = frame;
    const seq = frame.message.seq;
    const last = this.cursors.get(chatId);
    if (last !== undefined && seq <= last) {
      this.duplicatesDropped += 1;
      return;
    }
    if (last !== undefined && seq > last + 1 && this.current === 'resuming') {
      let waiting = this.ahead.get(chatId);
      if (!waiting) {
        waiting = new Map();
        this.ahead.set(chatId, waiting);
      }
      waiting.set(seq, frame);
      return;
    }
    this.cursors.set(chatId, seq);
    this.deliver(frame);
    const waiting = this.ahead.get(chatId);
    let next = waiting?.get(seq + 1);
    while (waiting && next) {
      waiting.delete(next.message.seq);
      this.cursors.set(chatId, next.message.seq);
      this.deliver(next);
      next = waiting.get(next.message.seq + 1);
    }
  }

  /** A change of a chat (an event with a `rev`): in rev order, once each; an old rev is dropped. */
  private changed(frame: ChangeFrame): void {
    const last = this.revs.get(frame.chatId);
    if (last !== undefined && frame.rev <= last) {
      this.duplicatesDropped += 1;
      return;
    }
    this.revs.set(frame.chatId, frame.rev);
    this.deliver(frame);
  }

  /** What still waits behind a gap when the resume ends goes out in order (the server's replay leaves none). */
  private flushAhead(): void {
    const waiting = [...this.ahead.values()].flatMap((byseq) => [...byseq.values()]);
    this.ahead.clear();
    waiting.sort((a, b) => a.message.seq - b.message.seq);
    for (const frame of waiting) {
      const last = this.cursors.get(frame.chatId) ?? 0;
      if (frame.message.seq > last) {
        this.cursors.set(frame.chatId, frame.message.seq);
        this.deliver(frame);
      }
    }
  }

  private forget(chatId: string): void {
    this.cursors.delete(chatId);
    this.revs.delete(chatId);
    this.ahead.delete(chatId);
  }

  private deliver(frame: StreamFrame): void {
    this.emit('frame', frame);
    this.emit(frame.type, frame as StreamEventMap[typeof frame.type]);
  }

  private emit<K extends keyof StreamEventMap>(type: K, event: StreamEventMap[K]): void {
    for (const listener of [...(this.listeners.get(type) ?? [])]) {
      try {
        (listener as Listener<StreamEventMap[K]>)(event);
      } catch (error) {
        // A listener's failure is its own: the stream goes on. Reported where the platform reports errors.
        setTimeout(() => {
          throw error;
        });
      }
    }
  }
}

type ChangeFrame = Extract<StreamFrame, { rev: number; chatId: string }>;

/** A change of a chat: an event carrying the chat's `rev` (not `chat.resync`, which only names one). */
function isChange(frame: StreamFrame): frame is ChangeFrame {
  const { rev, chatId } = frame as { rev?: unknown; chatId?: unknown };
  return frame.type !== 'chat.resync' && typeof rev === 'number' && typeof chatId === 'string';
}
