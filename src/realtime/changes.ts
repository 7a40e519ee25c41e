import { streamChanges } from '../chats/change.service.ts';
import type { Context } from '../context.ts';
import { aboutSeq, type ChatStream, type Connection } from './connection.ts';
import type { SharedReads } from '../shared-reads.ts';
import { FrameCache } from './reads.ts';

const PAGE = 500;

/** What a fill of changes ended with: all sent, a change waits for a message not sent yet, or the stream is gone. */
export type ChangeFill = 'done' | 'blocked' | 'gone';

/** A change as the database gives it back: the same frame as the live event, built once per change read. */
const changeFrames = new FrameCache<{ rev: number; type: string; payload: Record<string, unknown> }>(
  (change) => JSON.stringify({ type: change.type, ...change.payload, rev: change.rev }),
);

/** `chat.resync`: changes the client has not seen are no longer kept; it reloads the chat's history. */
function resyncFrame(chatId: string, rev: number): string {
  return JSON.stringify({ type: 'chat.resync', chatId, rev });
}

/**
 * A chat's changes (events with a `rev`: edits, deletions, reactions, ...) to one connection in rev order, with
 * neither gaps nor duplicates, each after the message it is about; a gap is filled from the chat's change log, and
 * a gap the log no longer holds (pruned) becomes one `chat.resync`. The messages' side is `Delivery`'s.
 */
export class ChangeDelivery {
  constructor(
    private readonly ctx: Context,
    private readonly send: (connection: Connection, data: string, withCursor: boolean) => void,
    /** Reads shared by the connections of a chat waiting on the same gap. */
    private readonly reads: SharedReads,
  ) {}

  private changesAfter(chatId: string, after: number) {
    return this.reads.read(`changes\u0000${chatId}\u0000${after}`, () =>
      streamChanges(this.ctx, chatId, after, PAGE),
    );
  }

  /** Sends the pending changes contiguous after `lastRev`, as long as their messages have gone out. */
  drain(connection: Connection, stream: ChatStream): void {
    let next = stream.changes.get(stream.lastRev + 1);
    while (next && (next.seq === null || next.seq <= stream.last)) {
      stream.changes.delete(stream.lastRev + 1);
      stream.lastRev += 1;
      this.send(connection, next.data, true);
      next = stream.changes.get(stream.lastRev + 1);
    }
    for (const rev of stream.changes.keys()) {
      if (rev <= stream.lastRev) {
        stream.changes.delete(rev);
      }
    }
  }

  /** Reads every change after `lastRev` from the log and delivers it, until one is about a message not yet sent. */
  async fill(connection: Connection, chatId: string, stream: ChatStream): Promise<ChangeFill> {
    for (;;) {
      const { changeSeq, changes } = await this.changesAfter(chatId, stream.lastRev);
      if (connection.closed || connection.chats.get(chatId) !== stream) {
        return 'gone';
      }
      if (changeSeq === null) {
        return 'done';
      }
      const first = changes[0];
      if (first ? first.rev > stream.lastRev + 1 : changeSeq > stream.lastRev) {
        // Pruned: what the client missed is gone from the log. It reloads the chat; live changes go on from here.
        stream.lastRev = changeSeq;
        this.send(connection, resyncFrame(chatId, changeSeq), true);
        this.drain(connection, stream);
        return 'done';
      }
      for (const change of changes) {
        const seq = aboutSeq(change.payload);
        if (change.rev !== stream.lastRev + 1) {
          return 'done';
        }
        if (seq !== null && seq > stream.last) {
          return 'blocked';
        }
        stream.lastRev = change.rev;
        stream.changes.delete(change.rev);
        this.send(connection, changeFrames.of(change), true);
      }
      if (changes.length < PAGE) {
        return 'done';
      }
    }
  }

  /**
   * A late resume: newer changes already went out live; the older missed ones (after `seen`, up to where the stream
   * subscribed) are sent once, or `chat.resync` when the log no longer holds them.
   */
  async replayBelowFloor(
    connection: Connection,
    chatId: string,
    stream: ChatStream,
    seen: number,
  ): Promise<void> {
    let after = seen;
    while (after < stream.revFloor) {
      const { changes } = await this.changesAfter(chatId, after);
      if (connection.closed) {
        return;
      }
      const below = changes.filter((change) => change.rev <= stream.revFloor);
      if (below[0]?.rev !== after + 1) {
        this.send(connection, resyncFrame(chatId, stream.revFloor), false);
        break;
      }
      for (const change of below) {
        this.send(connection, changeFrames.of(change), false);
      }
      after = below[below.length - 1]!.rev;
      if (below.length < changes.length || changes.length < PAGE) {
        break;
      }
    }
    stream.revFloor = Math.min(stream.revFloor, seen);
  }
}
