import { randomBytes } from 'node:crypto';
import type { Actor } from '../auth/actor.ts';
import { streamPositionOf } from '../chats/change.service.ts';
import { chatViewFor, streamSubscriptions } from '../chats/chat.service.ts';
import type { Context } from '../context.ts';
import { isDatabaseUnavailable, type OutageReporter } from '../errors/database.ts';
import { memberEvent } from '../members/member.events.ts';
import { releaseProcess, renewPresence, streamOpened, streamsClosed } from '../users/presence.service.ts';
import type { Bus } from './bus.ts';
import { frame, type Connection, type ResumeCursors } from './connection.ts';
import { Delivery } from './delivery.ts';
import { CLOSE_GOING_AWAY, CLOSE_USER_DELETED, streamEvent, type ServerEvent } from './protocol.ts';
import type { RealtimeConfig } from './realtime.config.ts';
import { Registry } from './registry.ts';

/**
 * The process's side of the stream: connections come and go (`Registry`), every event from the bus is routed to
 * the connections it concerns, and messages reach each connection in seq order (`Delivery`). Presence follows the
 * user's first and last stream on this process.
 */
export class Gateway {
  readonly nodeId = randomBytes(8).toString('hex');
  private readonly registry: Registry;
  private readonly delivery: Delivery;
  /** Open streams per user on this process: presence changes on the first and the last. */
  private readonly localUsers = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(
    private readonly ctx: Context,
    private readonly bus: Bus,
    readonly limits: RealtimeConfig,
    /** Where a database outage is reported (once), instead of logging every stream's failure during it. */
    private readonly outages?: OutageReporter,
  ) {
    this.registry = new Registry(limits.socketsPerUser);
    this.delivery = new Delivery(
      ctx,
      limits,
      (error, level, message, fields) => this.logFailure(error, level, message, fields),
      (connection) => this.close(connection),
    );
    bus.subscribe((e) => {
      this.dispatch(e).catch((error: unknown) =>
        this.logFailure(error, 'error', 'dispatch failed', { type: e.type }),
      );
    });
    bus.onReconnect(() => this.resync());
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
        renewPresence(this.ctx, this.nodeId, this.limits.presenceTtlMs).catch((error: unknown) =>
          this.logFailure(error, 'warn', 'presence heartbeat failed'),
        );
      },
      Math.max(200, Math.floor(this.limits.presenceTtlMs / 3)),
    );
    this.heartbeat.unref();
  }

  get connectionCount(): number {
    return this.registry.count;
  }

  // ---- connections -------------------------------------------------------------------------------------------

  /** Registers a connection if its user has room for one more on this process; `limit_exceeded` otherwise. */
  admit(connection: Connection): void {
    this.registry.admit(connection);
  }

  /** Subscribes an admitted connection to the user's chats and applies the resume cursors given at connect. */
  async open(connection: Connection, resume: ResumeCursors | null): Promise<void> {
    const subscriptions = await streamSubscriptions(this.ctx, connection.actor);
    if (connection.closed) {
      return;
    }
    const changes: Record<string, number> = {};
    for (const { chatId, lastSeq, lastRev } of subscriptions) {
      this.registry.subscribe(connection, chatId, lastSeq, lastRev);
      if (lastRev > 0) {
        changes[chatId] = lastRev;
      }
    }
    const ready = { type: 'ready', userId: connection.actor.userId };
    connection.transport.send(
      JSON.stringify(Object.keys(changes).length > 0 ? { ...ready, changes } : ready),
    );
    const early = connection.early ?? [];
    connection.early = null;
    for (const { data, withCursor } of early) {
      this.delivery.send(connection, data, withCursor);
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
    this.registry.remove(connection);
    this.userDisconnected(connection.actor).catch((error: unknown) =>
      this.logFailure(error, 'warn', 'presence update on disconnect failed'),
    );
  }

  /** Closes every connection with "going away" so clients reconnect to another process; clears this node's presence. */
  async shutdown(): Promise<void> {
    if (this.heartbeat) {
      clearInterval(this.heartbeat);
    }
    for (const connection of this.registry.all()) {
      connection.transport.close(CLOSE_GOING_AWAY, 'server shutting down');
      this.close(connection);
    }
    try {
      await releaseProcess(this.ctx, this.nodeId);
    } catch (error) {
      this.logFailure(error, 'warn', 'could not clear presence at shutdown');
    }
  }

  // ---- client frames -----------------------------------------------------------------------------------------

  /** `resume`: replay every message.created, then every change, after the client's cursors, in order; `resumed`. */
  async resume(connection: Connection, cursors: ResumeCursors, fromFrame = true): Promise<void> {
    await this.delivery.resume(connection, cursors, fromFrame);
    if (!connection.closed) {
      connection.transport.send(JSON.stringify({ type: 'resumed' }));
    }
  }

  /** The hold ends without a resume: deliver what waited, from the stream's connect-time position. */
  release(connection: Connection): void {
    this.delivery.release(connection);
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

  // ---- after the bus lost events ---------------------------------------------------------------------------------

  /**
   * The bus was away: events may have been lost, not only messages. Each user's chats are read again (one query per
   * user): a chat joined meanwhile is followed from its current seq and the user is told (`member.added`, as a
   * reconnect would follow it); a chat left or deleted meanwhile is dropped at once and the user is told
   * (`member.removed`), so nothing of it is delivered any more. Then every stream catches up from the database.
   */
  private resync(): void {
    const byUser = new Map<string, Connection[]>();
    for (const connection of this.registry.all()) {
      // A stream still opening reads its chats itself.
      if (connection.early === null) {
        byUser.set(connection.userKey, [...(byUser.get(connection.userKey) ?? []), connection]);
      }
    }
    for (const connections of byUser.values()) {
      this.resyncUser(connections).catch((error: unknown) =>
        this.logFailure(error, 'error', 'resync failed', { userId: connections[0]!.actor.userId }),
      );
    }
  }

  private async resyncUser(connections: Connection[]): Promise<void> {
    const followed = connections.map((connection) => new Map(connection.chats));
    const { tenantId, userId } = connections[0]!.actor;
    const subscriptions = await streamSubscriptions(this.ctx, connections[0]!.actor);
    const current = new Set(subscriptions.map((s) => s.chatId));
    for (const [i, connection] of connections.entries()) {
      if (connection.closed) {
        continue;
      }
      for (const [chatId, stream] of followed[i]!) {
        // Unless a live event changed it while the chats were read.
        if (!current.has(chatId) && connection.chats.get(chatId) === stream) {
          this.registry.unsubscribe(connection, chatId);
          this.delivery.send(
            connection,
            frame(memberEvent('member.removed', tenantId, { userId }, { chatId, userId })),
          );
        }
      }
      for (const { chatId, lastSeq, lastRev } of subscriptions) {
        if (!connection.chats.has(chatId)) {
          this.registry.subscribe(connection, chatId, lastSeq, lastRev);
          this.delivery.send(
            connection,
            frame(memberEvent('member.added', tenantId, { userId }, { chatId, userId })),
          );
        }
      }
    }
    this.delivery.resync(connections.filter((connection) => !connection.closed));
  }

  // ---- routing -------------------------------------------------------------------------------------------------

  private async dispatch(e: ServerEvent): Promise<void> {
    const send = (connection: Connection) => this.delivery.send(connection, frame(e));
    switch (e.type) {
      case 'chat.created':
        for (const userId of e.memberIds ?? []) {
          for (const connection of this.registry.ofUser(e.tenantId, userId)) {
            this.registry.subscribe(connection, e.payload.chat.id, 0, 0);
          }
        }
        return this.sendChatViews(e, e.payload.chat.id);
      case 'chat.updated':
        return this.sendChatViews(e, e.payload.chat.id);
      case 'chat.deleted': {
        const chatId = e.payload.chat.id;
        const neutral = { ...e.payload.chat, role: null, unreadCount: 0, lastReadSeq: 0 };
        for (const connection of [...this.registry.ofChat(chatId)]) {
          this.delivery.send(connection, frame(e, { chat: neutral }));
          this.registry.unsubscribe(connection, chatId);
        }
        return;
      }
      case 'member.added': {
        const { chatId, userId } = e.payload;
        const joiners = this.registry.ofUser(e.tenantId, userId);
        if (joiners.size > 0) {
          const now =
            e.seqAt === undefined || e.revAt === undefined ? await streamPositionOf(this.ctx, chatId) : null;
          const at = e.seqAt ?? now?.lastSeq ?? 0;
          const rev = e.revAt ?? now?.lastRev ?? 0;
          for (const connection of joiners) {
            this.registry.subscribe(connection, chatId, at, rev);
          }
        }
        this.delivery.toChat(e, chatId, this.registry.ofChat(chatId));
        return;
      }
      case 'member.removed': {
        const { chatId, userId } = e.payload;
        if (!('userId' in e.audience)) {
          for (const connection of this.registry.ofChat(chatId)) {
            if (connection.actor.userId !== userId) {
              send(connection);
            }
          }
          return;
        }
        // The copy addressed to the removed user: tell them, then stop their stream of the chat at once.
        for (const connection of [...this.registry.ofUser(e.tenantId, userId)]) {
          send(connection);
          this.registry.unsubscribe(connection, chatId);
        }
        return;
      }
      case 'user.deleted': {
        // The tenant hears it; the user's own streams (on this process) end: their token names nobody any more.
        [...this.registry.ofTenant(e.tenantId)].forEach(send);
        for (const connection of [...this.registry.ofUser(e.tenantId, e.payload.userId)]) {
          connection.transport.close(CLOSE_USER_DELETED, 'user deleted');
          this.close(connection);
        }
        return;
      }
      case 'typing':
        for (const connection of this.registry.ofChat(e.payload.chatId)) {
          if (connection.actor.userId !== e.payload.userId) {
            send(connection);
          }
        }
        return;
      default:
        break;
    }
    if ('chatId' in e.audience) {
      this.delivery.toChat(e, e.audience.chatId, this.registry.ofChat(e.audience.chatId));
    } else if ('userId' in e.audience) {
      this.delivery.toUser(e, this.registry.ofUser(e.tenantId, e.audience.userId));
    } else {
      [...this.registry.ofTenant(e.tenantId)].forEach(send);
    }
  }

  /** Chat events carry the recipient's own view (role, unread count), read per recipient. */
  private async sendChatViews(e: ServerEvent, chatId: string): Promise<void> {
    const byUser = new Map<string, Connection[]>();
    for (const connection of this.registry.ofChat(chatId)) {
      byUser.set(connection.actor.userId, [...(byUser.get(connection.actor.userId) ?? []), connection]);
    }
    for (const [userId, connections] of byUser) {
      const chat = await chatViewFor(this.ctx, e.tenantId, chatId, userId);
      if (!chat) {
        continue;
      }
      const payload = frame(e, { chat });
      for (const connection of connections) {
        this.delivery.send(connection, payload);
      }
    }
  }

  // ---- presence ------------------------------------------------------------------------------------------------

  private async userConnected(actor: Actor): Promise<void> {
    const key = `${actor.tenantId}\u0000${actor.userId}`;
    const count = (this.localUsers.get(key) ?? 0) + 1;
    this.localUsers.set(key, count);
    if (count > 1) {
      return;
    }
    await streamOpened(this.ctx, actor, this.nodeId, this.limits.presenceTtlMs);
  }

  private async userDisconnected(actor: Actor): Promise<void> {
    const key = `${actor.tenantId}\u0000${actor.userId}`;
    const count = (this.localUsers.get(key) ?? 1) - 1;
    if (count > 0) {
      this.localUsers.set(key, count);
      return;
    }
    this.localUsers.delete(key);
    await streamsClosed(this.ctx, actor, this.nodeId);
  }
}
