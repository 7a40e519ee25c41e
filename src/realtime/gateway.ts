import { randomBytes } from 'node:crypto';
import type { Actor } from '../auth/actor.ts';
import type { RealtimeConfig } from './realtime.config.ts';
import { presentChat } from '../chats/chat.presenter.ts';
import { findChatForUser } from '../chats/chat.repository.ts';
import type { Context } from '../context.ts';
import { isDatabaseUnavailable, type OutageReporter } from '../errors/database.ts';
import { limitExceeded } from '../errors/codes.ts';
import { presentMessage } from '../messages/message.presenter.ts';
import { listMessages } from '../messages/message.repository.ts';
import type { Bus } from './bus.ts';
import { messageEvent } from '../messages/message.events.ts';
import { userEvent } from '../users/user.events.ts';
import { streamEvent, type ServerEvent } from './protocol.ts';
import {
  chatLastSeq,
  holdPresence,
  listSubscriptions,
  markOffline,
  markOnline,
  refreshPresence,
  releaseNode,
  releasePresence,
} from './stream.repository.ts';

/**
 * Close codes clients act on. Parley's own are 4000 + the HTTP status they stand for: 4008 = too slow, like a 408
 * (reconnect and resume); 4009 = a limit is reached, like a 409 `limit_exceeded` (do not reconnect at once: close
 * another stream first); 4029 = too many frames too fast, like a 429 (reconnect after a pause, and send less).
 * 1001 = server going away (reconnect elsewhere); 1008 = a bad request at connect (do not retry as it is);
 * 1013 = try again later (the database is unavailable: reconnect and resume shortly).
 */
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

const PAGE = 500;

/** One chat as one connection sees it: the highest seq delivered, and what waits for a gap to close. */
class ChatStream {
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

function frame(e: ServerEvent, payload?: object): string {
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

function seqOf(e: ServerEvent): number | null {
  if (e.type === 'message.created' || e.type === 'message.updated' || e.type === 'message.deleted') {
    return e.payload.message.seq;
  }
  return null;
}

/**
 * The process's side of the stream: which connection follows which chat, and delivery in seq order with neither
 * gaps nor duplicates. Events arrive from the bus (every process's, this one's included) possibly out of order or
 * not at all; a connection's stream of a chat only ever advances by one, and a gap is filled from the database.
 */
export class Gateway {
  readonly nodeId = randomBytes(8).toString('hex');
  private readonly byUser = new Map<string, Set<Connection>>();
  private readonly byChat = new Map<string, Set<Connection>>();
  private readonly byTenant = new Map<string, Set<Connection>>();
  private readonly localUsers = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(
    private readonly ctx: Context,
    private readonly bus: Bus,
    readonly limits: RealtimeConfig,
    /** Where a database outage is reported (once), instead of logging every stream's failure during it. */
    private readonly outages?: OutageReporter,
  ) {
    bus.subscribe((e) => {
      this.dispatch(e).catch((error: unknown) =>
        this.logFailure(error, 'error', 'dispatch failed', { type: e.type }),
      );
    });
    bus.onReconnect(() => this.resyncAll());
  }

  /** Logs a failure of work no request waits for; a database outage goes to the outage report instead. */
  logFailure(
    error: unknown,
    level: 'warn' | 'error',
    message: string,
    fields: Record<string, unknown> = {},
  ): void {
    if (this.outages && isDatabaseUnavailable(error)) {
      this.outages.failed(error);
      this.ctx.log.debug({ err: error, ...fields }, message);
      return;
    }
    this.ctx.log[level]({ err: error, ...fields }, message);
  }

  start(): void {
    this.heartbeat = setInterval(
      () => {
        this.presenceTick().catch((error: unknown) =>
          this.logFailure(error, 'warn', 'presence heartbeat failed'),
        );
      },
      Math.max(200, Math.floor(this.limits.presenceTtlMs / 3)),
    );
    this.heartbeat.unref();
  }

  get connectionCount(): number {
    let n = 0;
    for (const set of this.byTenant.values()) {
      n += set.size;
    }
    return n;
  }

  // ---- connections -------------------------------------------------------------------------------------------

  /**
   * Registers a connection if its user has room for one more on this process (`socketsPerUser`, WebSocket and SSE
   * together); `limit_exceeded` otherwise. Synchronous: two connects at once cannot both take the last place.
   */
  admit(connection: Connection): void {
    const max = this.limits.socketsPerUser;
    if ((this.byUser.get(connection.userKey)?.size ?? 0) >= max) {
      throw limitExceeded(
        'sockets_per_user',
        max,
        `at most ${max} open streams per user; close one before opening another`,
      );
    }
    add(this.byUser, connection.userKey, connection);
    add(this.byTenant, connection.actor.tenantId, connection);
  }

  /** Subscribes an admitted connection to the user's chats and applies the resume cursors given at connect. */
  async open(connection: Connection, resume: Record<string, number> | null): Promise<void> {
    const subscriptions = await listSubscriptions(
      this.ctx.db,
      connection.actor.tenantId,
      connection.actor.userId,
    );
    if (connection.closed) {
      return;
    }
    for (const { chat_id, last_seq } of subscriptions) {
      this.subscribe(connection, chat_id, last_seq);
    }
    connection.transport.send(JSON.stringify({ type: 'ready', userId: connection.actor.userId }));
    const early = connection.early ?? [];
    connection.early = null;
    for (const { data, withCursor } of early) {
      this.send(connection, data, withCursor);
    }
    if (resume) {
      await this.resume(connection, resume, false);
    }
    await this.userConnected(connection.actor);
  }

  close(connection: Connection): void {
    if (connection.closed) {
      return;
    }
    connection.closed = true;
    connection.clearTimers();
    remove(this.byUser, connection.userKey, connection);
    remove(this.byTenant, connection.actor.tenantId, connection);
    for (const chatId of connection.chats.keys()) {
      remove(this.byChat, chatId, connection);
    }
    this.userDisconnected(connection.actor).catch((error: unknown) =>
      this.logFailure(error, 'warn', 'presence update on disconnect failed'),
    );
  }

  /** Closes every connection with "going away" so clients reconnect to another process; clears this node's presence. */
  async shutdown(): Promise<void> {
    if (this.heartbeat) {
      clearInterval(this.heartbeat);
    }
    const all = [...this.byTenant.values()].flatMap((set) => [...set]);
    for (const connection of all) {
      connection.transport.close(CLOSE_GOING_AWAY, 'server shutting down');
      this.close(connection);
    }
    try {
      await releaseNode(this.ctx.db, this.nodeId);
      await this.publishOffline();
    } catch (error) {
      this.logFailure(error, 'warn', 'could not clear presence at shutdown');
    }
  }

  private subscribe(connection: Connection, chatId: string, lastSeq: number): void {
    if (connection.chats.has(chatId)) {
      return;
    }
    connection.chats.set(chatId, new ChatStream(lastSeq));
    add(this.byChat, chatId, connection);
  }

  private unsubscribe(connection: Connection, chatId: string): void {
    const stream = connection.chats.get(chatId);
    if (stream?.gapTimer) {
      clearTimeout(stream.gapTimer);
    }
    connection.chats.delete(chatId);
    remove(this.byChat, chatId, connection);
  }

  // ---- client frames -----------------------------------------------------------------------------------------

  /**
   * `resume`: replay every message.created after the client's cursor, in order, then `resumed`. Live events that
   * arrive meanwhile wait in the stream's pending set and are dropped if the replay already covered them.
   */
  async resume(connection: Connection, cursors: Record<string, number>, fromFrame = true): Promise<void> {
    const releasedHold = connection.stopHolding();
    const fills: Promise<void>[] = [];
    for (const [chatId, seen] of Object.entries(cursors)) {
      const stream = connection.chats.get(chatId);
      if (!stream) {
        continue;
      }
      const untouched = stream.last === stream.floor;
      if (releasedHold || untouched || !fromFrame) {
        // Nothing of this chat has been sent on this connection yet: the whole stream restarts at the cursor.
        stream.last = Math.max(0, seen);
        stream.floor = stream.last;
        fills.push(this.fill(connection, chatId, stream));
      } else if (seen < stream.floor) {
        // A late resume: newer messages already went out live; send the older missed ones once, below the floor.
        fills.push(this.replayBelowFloor(connection, chatId, stream, seen));
      }
    }
    await Promise.all(fills);
    if (releasedHold) {
      this.release(connection);
    }
    if (!connection.closed) {
      connection.transport.send(JSON.stringify({ type: 'resumed' }));
    }
  }

  /** The hold ends without a resume: deliver what waited, from the stream's connect-time position. */
  release(connection: Connection): void {
    connection.stopHolding();
    for (const [chatId, stream] of connection.chats) {
      this.drain(connection, chatId, stream);
    }
  }

  async typing(connection: Connection, chatId: string): Promise<boolean> {
    if (!connection.chats.has(chatId)) {
      return false;
    }
    if (!connection.typingAllowed(chatId, this.limits.typingIntervalMs)) {
      return true;
    }
    const { tenantId, userId } = connection.actor;
    this.bus.publish(streamEvent('typing', tenantId, { chatId }, { chatId, userId }));
    return true;
  }

  // ---- delivery ------------------------------------------------------------------------------------------------

  private async dispatch(e: ServerEvent): Promise<void> {
    switch (e.type) {
      case 'chat.created':
        for (const userId of e.memberIds ?? []) {
          for (const connection of this.byUser.get(`${e.tenantId}\u0000${userId}`) ?? []) {
            this.subscribe(connection, e.payload.chat.id, 0);
          }
        }
        return this.sendChatViews(e, e.payload.chat.id);
      case 'chat.updated':
        return this.sendChatViews(e, e.payload.chat.id);
      case 'chat.deleted': {
        const chatId = e.payload.chat.id;
        const neutral = { ...e.payload.chat, role: null, unreadCount: 0, lastReadSeq: 0 };
        for (const connection of [...(this.byChat.get(chatId) ?? [])]) {
          this.send(connection, frame(e, { chat: neutral }));
          this.unsubscribe(connection, chatId);
        }
        return;
      }
      case 'member.added': {
        const { chatId, userId } = e.payload;
        const joiners = this.byUser.get(`${e.tenantId}\u0000${userId}`) ?? new Set<Connection>();
        if (joiners.size > 0) {
          const at = e.seqAt ?? (await chatLastSeq(this.ctx.db, chatId)) ?? 0;
          for (const connection of joiners) {
            this.subscribe(connection, chatId, at);
          }
        }
        this.sendToChat(e, chatId);
        return;
      }
      case 'member.removed': {
        const { chatId, userId } = e.payload;
        if (!('userId' in e.audience)) {
          for (const connection of this.byChat.get(chatId) ?? []) {
            if (connection.actor.userId !== userId) {
              this.send(connection, frame(e));
            }
          }
          return;
        }
        // The copy addressed to the removed user: tell them, then stop their stream of the chat at once.
        for (const connection of this.byUser.get(`${e.tenantId}\u0000${userId}`) ?? []) {
          this.send(connection, frame(e));
          this.unsubscribe(connection, chatId);
        }
        return;
      }
      case 'typing':
        for (const connection of this.byChat.get(e.payload.chatId) ?? []) {
          if (connection.actor.userId !== e.payload.userId) {
            this.send(connection, frame(e));
          }
        }
        return;
      default:
        break;
    }
    if ('chatId' in e.audience) {
      this.sendToChat(e, e.audience.chatId);
    } else if ('userId' in e.audience) {
      for (const connection of this.byUser.get(`${e.tenantId}\u0000${e.audience.userId}`) ?? []) {
        this.send(connection, frame(e));
      }
    } else {
      for (const connection of this.byTenant.get(e.tenantId) ?? []) {
        this.send(connection, frame(e));
      }
    }
  }

  private sendToChat(e: ServerEvent, chatId: string): void {
    const seq = seqOf(e);
    for (const connection of [...(this.byChat.get(chatId) ?? [])]) {
      if (connection.actor.tenantId !== e.tenantId) {
        continue;
      }
      const stream = connection.chats.get(chatId);
      if (seq === null || !stream) {
        this.send(connection, frame(e));
        continue;
      }
      if (e.type === 'message.created') {
        if (seq > stream.last) {
          stream.pending.set(seq, e);
          this.drain(connection, chatId, stream);
        }
        continue;
      }
      if (seq <= stream.last && !connection.holding) {
        this.send(connection, frame(e));
      } else {
        stream.deferred.push({ seq, event: e });
      }
    }
  }

  /** Chat events carry the recipient's own view (role, unread count), read per recipient. */
  private async sendChatViews(e: ServerEvent, chatId: string): Promise<void> {
    const byUser = new Map<string, Connection[]>();
    for (const connection of this.byChat.get(chatId) ?? []) {
      byUser.set(connection.actor.userId, [...(byUser.get(connection.actor.userId) ?? []), connection]);
    }
    for (const [userId, connections] of byUser) {
      const entry = await findChatForUser(this.ctx.db, e.tenantId, chatId, userId);
      if (!entry) {
        continue;
      }
      const payload = frame(e, { chat: presentChat(entry) });
      for (const connection of connections) {
        this.send(connection, payload);
      }
    }
  }

  /** Sends what is contiguous after `last`; a gap waits briefly for the bus, then is read from the database. */
  private drain(connection: Connection, chatId: string, stream: ChatStream): void {
    if (connection.holding || connection.closed || stream.filling) {
      return;
    }
    this.flushDeferred(connection, stream);
    let next = stream.pending.get(stream.last + 1);
    while (next) {
      stream.pending.delete(stream.last + 1);
      stream.last += 1;
      this.send(connection, frame(next), true);
      this.flushDeferred(connection, stream);
      next = stream.pending.get(stream.last + 1);
    }
    for (const seq of stream.pending.keys()) {
      if (seq <= stream.last) {
        stream.pending.delete(seq);
      }
    }
    if (stream.pending.size > 0 && !stream.gapTimer) {
      stream.gapTimer = setTimeout(() => {
        stream.gapTimer = null;
        this.fill(connection, chatId, stream).catch((error: unknown) =>
          this.logFailure(error, 'error', 'gap fill failed', { chatId }),
        );
      }, this.limits.gapWaitMs);
      stream.gapTimer.unref();
    }
  }

  private flushDeferred(connection: Connection, stream: ChatStream): void {
    if (stream.deferred.length === 0) {
      return;
    }
    const ready = stream.deferred.filter((d) => d.seq <= stream.last);
    stream.deferred = stream.deferred.filter((d) => d.seq > stream.last);
    for (const { event: e } of ready) {
      this.send(connection, frame(e));
    }
  }

  /** Reads every committed message after `last` from the database and delivers it, then what waited live. */
  private async fill(connection: Connection, chatId: string, stream: ChatStream): Promise<void> {
    if (stream.filling) {
      return;
    }
    stream.filling = true;
    try {
      for (;;) {
        const rows = await listMessages(this.ctx.db, chatId, {
          after: stream.last,
          limit: PAGE,
          direction: 'forward',
        });
        if (connection.closed || connection.chats.get(chatId) !== stream) {
          return;
        }
        for (const row of rows) {
          if (row.seq !== stream.last + 1) {
            break;
          }
          stream.last = row.seq;
          stream.pending.delete(row.seq);
          const message = presentMessage(row);
          const created = messageEvent(
            'message.created',
            connection.actor.tenantId,
            { chatId },
            { chatId, message },
          );
          this.send(connection, frame(created), true);
          this.flushDeferred(connection, stream);
        }
        if (rows.length < PAGE) {
          break;
        }
      }
    } finally {
      stream.filling = false;
    }
    this.drain(connection, chatId, stream);
  }

  private async replayBelowFloor(
    connection: Connection,
    chatId: string,
    stream: ChatStream,
    seen: number,
  ): Promise<void> {
    let after = seen;
    while (after < stream.floor) {
      const rows = await listMessages(this.ctx.db, chatId, {
        after,
        before: stream.floor + 1,
        limit: PAGE,
        direction: 'forward',
      });
      if (rows.length === 0 || connection.closed) {
        break;
      }
      for (const row of rows) {
        const message = presentMessage(row);
        this.send(
          connection,
          frame(messageEvent('message.created', connection.actor.tenantId, { chatId }, { chatId, message })),
        );
      }
      after = rows[rows.length - 1]!.seq;
    }
    stream.floor = Math.min(stream.floor, seen);
  }

  /** After the bus reconnected, events may be lost: every stream catches up from the database. */
  private resyncAll(): void {
    for (const set of this.byTenant.values()) {
      for (const connection of set) {
        for (const [chatId, stream] of connection.chats) {
          this.fill(connection, chatId, stream).catch((error: unknown) =>
            this.logFailure(error, 'error', 'resync failed', { chatId }),
          );
        }
      }
    }
  }

  /** Every frame goes through here: a connection that cannot keep up is closed with 4008 rather than buffered. */
  private send(connection: Connection, data: string, withCursor = false): void {
    if (connection.closed) {
      return;
    }
    if (connection.early) {
      connection.early.push({ data, withCursor });
      return;
    }
    if (connection.transport.bufferedAmount() > this.limits.maxBufferedBytes) {
      this.ctx.log.info({ userId: connection.actor.userId }, 'closing a slow consumer');
      connection.transport.close(CLOSE_SLOW_CONSUMER, 'slow consumer: reconnect and resume');
      this.close(connection);
      return;
    }
    connection.transport.send(data, withCursor ? () => connection.cursors() : undefined);
  }

  // ---- presence ------------------------------------------------------------------------------------------------

  private async userConnected(actor: Actor): Promise<void> {
    const key = `${actor.tenantId}\u0000${actor.userId}`;
    const count = (this.localUsers.get(key) ?? 0) + 1;
    this.localUsers.set(key, count);
    if (count > 1) {
      return;
    }
    await holdPresence(this.ctx.db, actor.tenantId, actor.userId, this.nodeId, this.limits.presenceTtlMs);
    if (await markOnline(this.ctx.db, actor.tenantId, actor.userId)) {
      this.bus.publish(
        userEvent('presence', actor.tenantId, { tenant: true }, { userId: actor.userId, status: 'online' }),
      );
    }
  }

  private async userDisconnected(actor: Actor): Promise<void> {
    const key = `${actor.tenantId}\u0000${actor.userId}`;
    const count = (this.localUsers.get(key) ?? 1) - 1;
    if (count > 0) {
      this.localUsers.set(key, count);
      return;
    }
    this.localUsers.delete(key);
    await releasePresence(this.ctx.db, actor.tenantId, actor.userId, this.nodeId);
    await this.publishOffline({ tenantId: actor.tenantId, userId: actor.userId });
  }

  private async publishOffline(only?: { tenantId: string; userId: string }): Promise<void> {
    for (const row of await markOffline(this.ctx.db, only)) {
      this.bus.publish(
        userEvent('presence', row.tenant_id, { tenant: true }, { userId: row.id, status: 'offline' }),
      );
    }
  }

  /** Heartbeat: keep this process's presence rows alive, and retire users whose every process is gone. */
  private async presenceTick(): Promise<void> {
    await refreshPresence(this.ctx.db, this.nodeId, this.limits.presenceTtlMs);
    await this.publishOffline();
  }
}

function add<K>(map: Map<K, Set<Connection>>, key: K, connection: Connection): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(connection);
}

function remove<K>(map: Map<K, Set<Connection>>, key: K, connection: Connection): void {
  const set = map.get(key);
  if (!set) {
    return;
  }
  set.delete(connection);
  if (set.size === 0) {
    map.delete(key);
  }
}
