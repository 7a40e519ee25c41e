import type { Context } from '../context.ts';
import { messageEvent } from '../messages/message.events.ts';
import { streamMessages } from '../messages/history.service.ts';
import type { MessageView } from '../messages/message.schema.ts';
import { ChangeDelivery } from './changes.ts';
import {
  aboutSeq,
  frame,
  revOf,
  seqOf,
  type ChatStream,
  type Connection,
  type ResumeCursors,
} from './connection.ts';
import { CLOSE_SLOW_CONSUMER, type ServerEvent } from './protocol.ts';
import type { RealtimeConfig } from './realtime.config.ts';
import { SharedReads } from '../shared-reads.ts';
import { FrameCache } from './reads.ts';

const PAGE = 500;

/** A message read back from the database, as the frame its live `message.created` would have been. */
const createdFrames = new FrameCache<MessageView>((message) =>
  frame(messageEvent('message.created', '', { chatId: message.chatId }, { chatId: message.chatId, message })),
);

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
  private readonly changes: ChangeDelivery;
  /** Reads of the database that connections waiting on the same gap share. */
  private readonly reads = new SharedReads();

  constructor(
    private readonly ctx: Context,
    private readonly limits: RealtimeConfig,
    private readonly failed: FailureLog,
    /** A connection that cannot keep up: it has been told (4008) and must be forgotten. */
    private readonly dropSlow: (connection: Connection) => void,
  ) {
    this.changes = new ChangeDelivery(
      ctx,
      (connection, data, withCursor) => this.send(connection, data, withCursor),
      this.reads,
    );
  }

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
    connection.transport.send(data, withCursor ? connection.cursor : undefined);
  }

  /**
   * An event of a chat to the connections following it: a message.created joins the stream's pending messages and
   * goes out in seq order; a change (an event with a `rev`) joins its pending changes and goes out in rev order, and
   * only once the message it is about has gone out. Anything else goes out at once.
   */
  toChat(e: ServerEvent, chatId: string, connections: Iterable<Connection>): void {
    const seq = seqOf(e);
    const rev = revOf(e);
    const data = frame(e);
    for (const connection of [...connections]) {
      if (connection.actor.tenantId !== e.tenantId) {
        continue;
      }
      const stream = connection.chats.get(chatId);
      if (!stream) {
        this.send(connection, data);
        continue;
      }
      if (seq === null && rev === null) {
        this.sendOrWait(connection, chatId, stream, e);
        continue;
      }
      if (seq !== null) {
        if (seq === stream.last + 1 && stream.idle && !connection.holding) {
          // The common case, the next message with nothing waiting: out at once.
          stream.last = seq;
          this.send(connection, data, true);
        } else if (seq > stream.last) {
          stream.hold(seq, e);
          this.drain(connection, chatId, stream);
        }
        continue;
      }
      if (rev !== null && rev > stream.lastRev) {
        stream.holdChange(rev, { data, seq: aboutSeq(e.payload) });
        this.drain(connection, chatId, stream);
      }
    }
  }

  /**
   * An event for one user's connections. One about a message of a chat they follow (a mention) goes out after that
   * message's `message.created` on each connection; any other at once.
   */
  toUser(e: ServerEvent, connections: Iterable<Connection>): void {
    const { chatId } = e.payload as { chatId?: unknown };
    for (const connection of [...connections]) {
      const stream = typeof chatId === 'string' ? connection.chats.get(chatId) : undefined;
      if (stream && typeof chatId === 'string') {
        this.sendOrWait(connection, chatId, stream, e);
      } else {
        this.send(connection, frame(e));
      }
    }
  }

  /**
   * `resume`: replay every message.created after the client's seq cursors, in order, then every change after its
   * rev cursors, in order. Live events that arrive meanwhile wait in the stream's pending sets and are dropped if
   * the replay already covered them. Events held for the resume (a new WebSocket's) are released once the replay is
   * done. A chat without a rev cursor keeps its changes from where the stream subscribed.
   */
  async resume(connection: Connection, cursors: ResumeCursors, fromFrame: boolean): Promise<void> {
    const releasedHold = connection.stopHolding();
    const fills: Promise<void>[] = [];
    const chatIds = new Set([...Object.keys(cursors.chats), ...Object.keys(cursors.changes)]);
    for (const chatId of chatIds) {
      const stream = connection.chats.get(chatId);
      if (!stream) {
        continue;
      }
      // Nothing of this chat has been sent on this connection yet: the stream restarts at the cursor.
      const restart = (untouched: boolean) => releasedHold || untouched || !fromFrame;
      let refill = false;
      let belowSeq: number | null = null;
      let belowRev: number | null = null;
      const seen = cursors.chats[chatId];
      if (seen !== undefined) {
        if (restart(stream.last === stream.floor)) {
          stream.last = Math.max(0, seen);
          stream.floor = stream.last;
          refill = true;
        } else if (seen < stream.floor) {
          // A late resume: newer messages already went out live; send the older missed ones once, below the floor.
          belowSeq = seen;
        }
      }
      const seenRev = cursors.changes[chatId];
      if (seenRev !== undefined) {
        if (restart(stream.lastRev === stream.revFloor)) {
          stream.lastRev = Math.max(0, seenRev);
          stream.revFloor = stream.lastRev;
          refill = true;
        } else if (seenRev < stream.revFloor) {
          belowRev = seenRev;
        }
      }
      fills.push(this.replay(connection, chatId, stream, { refill, belowSeq, belowRev }));
    }
    await Promise.all(fills);
    if (releasedHold) {
      this.release(connection);
    }
  }

  private async replay(
    connection: Connection,
    chatId: string,
    stream: ChatStream,
    how: { refill: boolean; belowSeq: number | null; belowRev: number | null },
  ): Promise<void> {
    if (how.belowSeq !== null) {
      await this.replayBelowFloor(connection, chatId, stream, how.belowSeq);
    }
    if (how.belowRev !== null) {
      await this.changes.replayBelowFloor(connection, chatId, stream, how.belowRev);
    }
    if (how.refill) {
      await this.fill(connection, chatId, stream);
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

  /**
   * An event that is neither a message nor a change: at once, unless it is about a message this connection has not
   * been sent yet (a read cursor moved to it): then it waits for that message.
   */
  private sendOrWait(connection: Connection, chatId: string, stream: ChatStream, e: ServerEvent): void {
    const seq = aboutSeq(e.payload);
    if (seq === null || (seq <= stream.last && !connection.holding && stream.waiting.length === 0)) {
      this.send(connection, frame(e));
      return;
    }
    stream.waiting.push({ data: frame(e), seq });
    this.drain(connection, chatId, stream);
  }

  private flushWaiting(connection: Connection, stream: ChatStream): void {
    while (stream.waiting.length > 0 && (stream.waiting[0]!.seq ?? 0) <= stream.last) {
      this.send(connection, stream.waiting.shift()!.data);
    }
  }

  /**
   * Sends what is contiguous after `last` (messages) and `lastRev` (changes whose message has gone out); a gap, or
   * a change waiting for a message that has not come, waits briefly for the bus, then is read from the database.
   */
  private drain(connection: Connection, chatId: string, stream: ChatStream): void {
    if (connection.holding || connection.closed || stream.filling) {
      return;
    }
    this.changes.drain(connection, stream);
    this.flushWaiting(connection, stream);
    let next = stream.pending.get(stream.last + 1);
    while (next) {
      stream.pending.delete(stream.last + 1);
      stream.last += 1;
      this.send(connection, frame(next), true);
      this.changes.drain(connection, stream);
      this.flushWaiting(connection, stream);
      next = stream.pending.get(stream.last + 1);
    }
    for (const seq of stream.pending.keys()) {
      if (seq <= stream.last) {
        stream.pending.delete(seq);
      }
    }
    const waits = stream.pending.size > 0 || stream.changes.size > 0 || stream.waiting.length > 0;
    if (!waits && stream.gapTimer) {
      // The gap closed live (events of concurrent sends arrive out of order): nothing to read.
      clearTimeout(stream.gapTimer);
      stream.gapTimer = null;
    }
    if (waits && !stream.gapTimer) {
      stream.gapTimer = setTimeout(() => {
        stream.gapTimer = null;
        this.fill(connection, chatId, stream).catch((error: unknown) =>
          this.failed(error, 'error', 'gap fill failed', { chatId }),
        );
      }, this.limits.gapWaitMs);
      stream.gapTimer.unref();
    }
  }

  /**
   * Reads every committed message after `last` from the database and delivers it, then every change after
   * `lastRev` (a change about a message committed since is followed by another read of messages), then what waited
   * live.
   */
  private async fill(connection: Connection, chatId: string, stream: ChatStream): Promise<void> {
    if (stream.filling) {
      return;
    }
    stream.filling = true;
    try {
      let before = -1;
      while (stream.last !== before) {
        before = stream.last;
        if (!(await this.fillMessages(connection, chatId, stream))) {
          return;
        }
        const outcome = await this.changes.fill(connection, chatId, stream);
        if (outcome !== 'blocked') {
          if (outcome === 'gone') {
            return;
          }
          break;
        }
      }
    } finally {
      stream.filling = false;
    }
    this.drain(connection, chatId, stream);
  }

  /** Messages after `last`, from the database; false when the stream is gone meanwhile. */
  private async fillMessages(connection: Connection, chatId: string, stream: ChatStream): Promise<boolean> {
    for (;;) {
      const messages = await this.messagesAfter(chatId, stream.last);
      if (connection.closed || connection.chats.get(chatId) !== stream) {
        return false;
      }
      for (const message of messages) {
        if (message.seq !== stream.last + 1) {
          break;
        }
        stream.last = message.seq;
        stream.pending.delete(message.seq);
        this.send(connection, createdFrames.of(message), true);
      }
      if (messages.length < PAGE) {
        return true;
      }
    }
  }

  private async replayBelowFloor(
    connection: Connection,
    chatId: string,
    stream: ChatStream,
    seen: number,
  ): Promise<void> {
    let after = seen;
    while (after < stream.floor) {
      const messages = await this.messagesAfter(chatId, after, stream.floor + 1);
      if (messages.length === 0 || connection.closed) {
        break;
      }
      for (const message of messages) {
        this.send(connection, createdFrames.of(message));
      }
      after = messages[messages.length - 1]!.seq;
    }
    stream.floor = Math.min(stream.floor, seen);
  }

  /** A page of the chat's messages after `after` (and before `before`), read once for every connection asking. */
  private messagesAfter(chatId: string, after: number, before?: number): Promise<MessageView[]> {
    return this.reads.read(`messages\u0000${chatId}\u0000${after}\u0000${before ?? ''}`, () =>
      streamMessages(
        this.ctx,
        chatId,
        before === undefined ? { after, limit: PAGE } : { after, before, limit: PAGE },
      ),
    );
  }
}
