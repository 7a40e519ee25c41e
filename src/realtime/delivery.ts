import type { Context } from '../context.ts';
import { messageEvent } from '../messages/message.events.ts';
import { streamMessages } from '../messages/history.service.ts';
import { frame, seqOf, type ChatStream, type Connection } from './connection.ts';
import { CLOSE_SLOW_CONSUMER, type ServerEvent } from './protocol.ts';
import type { RealtimeConfig } from './realtime.config.ts';

const PAGE = 500;

/** How delivery reports work that failed with no request waiting for it. */
export type FailureLog = (
  error: unknown,
  level: 'warn' | 'error',
  message: string,
  fields?: Record<string, unknown>,
) => void;

/**
 * Delivery to one connection in seq order, with neither gaps nor duplicates. Events arrive from the bus (every
 * process's, this one's included) possibly out of order or not at all; a connection's stream of a chat only ever
 * advances by one, and a gap is filled from the database.
 */
export class Delivery {
  constructor(
    private readonly ctx: Context,
    private readonly limits: RealtimeConfig,
    private readonly failed: FailureLog,
    /** A connection that cannot keep up: it has been told (4008) and must be forgotten. */
    private readonly dropSlow: (connection: Connection) => void,
  ) {}

  /** Every frame goes through here: a connection that cannot keep up is closed with 4008 rather than buffered. */
  send(connection: Connection, data: string, withCursor = false): void {
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
      this.dropSlow(connection);
      return;
    }
    connection.transport.send(data, withCursor ? () => connection.cursors() : undefined);
  }

  /**
   * An event of a chat to the connections following it: a message.created joins the stream's pending set and goes
   * out in seq order; an update or delete of a message not delivered yet waits until its message has gone out.
   */
  toChat(e: ServerEvent, chatId: string, connections: Iterable<Connection>): void {
    const seq = seqOf(e);
    for (const connection of [...connections]) {
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

  /**
   * `resume`: replay every message.created after the client's cursor, in order. Live events that arrive meanwhile
   * wait in the stream's pending set and are dropped if the replay already covered them. Events held for the resume
   * (a new WebSocket's) are released once the replay is done.
   */
  async resume(connection: Connection, cursors: Record<string, number>, fromFrame: boolean): Promise<void> {
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
  }

  /** The hold ends without a resume: deliver what waited, from the stream's connect-time position. */
  release(connection: Connection): void {
    connection.stopHolding();
    for (const [chatId, stream] of connection.chats) {
      this.drain(connection, chatId, stream);
    }
  }

  /** After the bus reconnected, events may be lost: every stream catches up from the database. */
  resync(connections: Iterable<Connection>): void {
    for (const connection of connections) {
      for (const [chatId, stream] of connection.chats) {
        this.fill(connection, chatId, stream).catch((error: unknown) =>
          this.failed(error, 'error', 'resync failed', { chatId }),
        );
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
          this.failed(error, 'error', 'gap fill failed', { chatId }),
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
        const messages = await streamMessages(this.ctx, chatId, { after: stream.last, limit: PAGE });
        if (connection.closed || connection.chats.get(chatId) !== stream) {
          return;
        }
        for (const message of messages) {
          if (message.seq !== stream.last + 1) {
            break;
          }
          stream.last = message.seq;
          stream.pending.delete(message.seq);
          const created = messageEvent(
            'message.created',
            connection.actor.tenantId,
            { chatId },
            { chatId, message },
          );
          this.send(connection, frame(created), true);
          this.flushDeferred(connection, stream);
        }
        if (messages.length < PAGE) {
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
      const messages = await streamMessages(this.ctx, chatId, {
        after,
        before: stream.floor + 1,
        limit: PAGE,
      });
      if (messages.length === 0 || connection.closed) {
        break;
      }
      for (const message of messages) {
        this.send(
          connection,
          frame(messageEvent('message.created', connection.actor.tenantId, { chatId }, { chatId, message })),
        );
      }
      after = messages[messages.length - 1]!.seq;
    }
    stream.floor = Math.min(stream.floor, seen);
  }
}
