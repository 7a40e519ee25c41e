import type { Page } from '../pagination.ts';
import { SharedReadsFor } from '../shared-reads.ts';
import type { MessageInContext } from './message.presenter.ts';
import type { MessageView } from './message.schema.ts';

/** One state of a chat's stored history: nothing is appended without `lastSeq` rising, nor changed without `revision`. */
export interface HistoryState {
  lastSeq: number;
  revision: number;
  /**
   * The chat's member count, for what shows members beside the messages (a direct chat's recipient): a member who
   * leaves a direct chat (a deleted user) changes that without touching a message.
   */
  members?: number;
}

/** What a cached page was asked with: the same range at the same state is the same page. */
export interface HistoryKey {
  chatId: string;
  after?: number;
  before?: number;
  limit: number;
  direction: 'forward' | 'backward';
}

/** What a cached list of one chat's messages with their context was asked with (a filter's order and range). */
export interface InContextKey {
  chatId: string;
  order: readonly { field: string; direction: 'asc' | 'desc' }[];
  offset: number;
  limit: number;
}

interface PageEntry {
  state: HistoryState;
  page: Page<MessageView>;
  bytes: number;
}

interface RowsEntry {
  state: HistoryState;
  rows: readonly MessageInContext[];
  bytes: number;
}

type Entry = PageEntry | RowsEntry;

/** A rough size of a message in memory: its fields, its text and client id as UTF-16. */
function messageBytes(message: MessageView): number {
  return 400 + 2 * (message.text?.length ?? 0) + 2 * (message.clientId?.length ?? 0);
}

/** A rough size of an entry in memory: its key and bookkeeping, and each message. */
function sizeOf(key: string, page: Page<MessageView>): number {
  let bytes = 512 + 2 * key.length + 2 * (page.nextCursor?.length ?? 0);
  for (const message of page.data) {
    bytes += messageBytes(message);
  }
  return bytes;
}

function rowsSizeOf(key: string, rows: readonly MessageInContext[]): number {
  let bytes = 512 + 2 * key.length;
  for (const row of rows) {
    bytes +=
      200 +
      messageBytes(row.message) +
      2 * ((row.subject?.length ?? 0) + row.channelType.length + (row.parentId?.length ?? 0));
  }
  return bytes;
}

/**
 * History pages as read at one state of their chat (`HistoryState`, migration 0010), least recently used first out,
 * within `maxBytes`. Exact, not timed: a page is served again only after the database has said, in the request's
 * own membership check, that the chat is still at the state the page was read at; any append, edit or delete by any
 * process moves the state on. Only reads outside a transaction fill it, so it never holds what a transaction saw
 * and then rolled back. Pages are frozen: every request shares them.
 *
 * Beside the native pages it keeps lists of one chat's messages with their context (`MessageInContext`: what the
 * SourceLoop dialect lists), under keys of their own, on the same terms; their state also counts the chat's members
 * (a direct chat's recipient), and the properties stored beside messages move `revision` on (migration 0016).
 */
export class HistoryCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  /** Statements under way per key (a page's check or read): while one is, concurrent requests share page reads. */
  private readonly reading = new Map<string, number>();
  /**
   * Page reads concurrent misses share, each joinable only until it starts (`SharedReadsFor`), told the user ids of
   * the requests that joined it.
   */
  readonly reads = new SharedReadsFor<string>();
  /** Pages served from the cache, the chat still at the state they were read at. */
  hits = 0;
  /** Pages read from the database: one per read, however many requests it answers. */
  misses = 0;
  /** Pages a request got from a read another request had asked for, and that started after it asked. */
  shared = 0;

  constructor(private readonly maxBytes: number) {}

  static keyOf(key: HistoryKey): string {
    return `${key.chatId}|${key.direction}|${key.after ?? ''}|${key.before ?? ''}|${key.limit}`;
  }

  static inContextKeyOf(key: InContextKey): string {
    const order = key.order.map((o) => `${o.field} ${o.direction}`).join(',');
    return `${key.chatId}|in-context|${order}|${key.offset}|${key.limit}`;
  }

  /** Whether a statement that reads `key`'s page or its chat's state is under way. */
  busy(key: string): boolean {
    return this.reading.has(key);
  }

  /** `read`, counted as under way for `key` until it settles (`busy`). */
  async track<T>(key: string, read: () => Promise<T>): Promise<T> {
    this.reading.set(key, (this.reading.get(key) ?? 0) + 1);
    try {
      return await read();
    } finally {
      const left = this.reading.get(key)! - 1;
      if (left === 0) {
        this.reading.delete(key);
      } else {
        this.reading.set(key, left);
      }
    }
  }

  /** The entry for `key` at whatever state, now the most recently used. */
  private touch(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  /** The page cached for `key` at whatever state, to be confirmed against the database. */
  get(key: string): PageEntry | undefined {
    const entry = this.touch(key);
    return entry && 'page' in entry ? entry : undefined;
  }

  set(key: string, state: HistoryState, page: Page<MessageView>): Page<MessageView> {
    const frozen = Object.freeze({
      ...page,
      data: Object.freeze(page.data.map((m) => Object.freeze(m))),
    }) as unknown as Page<MessageView>;
    this.keep(key, { state, page: frozen, bytes: sizeOf(key, page) });
    return frozen;
  }

  /** The list cached for `key` (`inContextKeyOf`) at whatever state, to be confirmed against the database. */
  getInContext(key: string): RowsEntry | undefined {
    const entry = this.touch(key);
    return entry && 'rows' in entry ? entry : undefined;
  }

  setInContext(key: string, state: HistoryState, rows: MessageInContext[]): readonly MessageInContext[] {
    const frozen = Object.freeze(
      rows.map((row) => Object.freeze({ ...row, message: Object.freeze(row.message) })),
    );
    this.keep(key, { state, rows: frozen, bytes: rowsSizeOf(key, rows) });
    return frozen;
  }

  private keep(key: string, entry: Entry): void {
    if (entry.bytes > this.maxBytes) {
      return;
    }
    this.delete(key);
    this.entries.set(key, entry);
    this.bytes += entry.bytes;
    for (const [oldest, old] of this.entries) {
      if (this.bytes <= this.maxBytes) {
        break;
      }
      this.entries.delete(oldest);
      this.bytes -= old.bytes;
    }
  }

  private delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      this.bytes -= entry.bytes;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get sizeBytes(): number {
    return this.bytes;
  }
}
