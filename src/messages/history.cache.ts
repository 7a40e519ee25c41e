import type { Page } from '../pagination.ts';
import type { MessageView } from './message.schema.ts';

/** One state of a chat's stored history: nothing is appended without `lastSeq` rising, nor changed without `revision`. */
export interface HistoryState {
  lastSeq: number;
  revision: number;
}

/** What a cached page was asked with: the same range at the same state is the same page. */
export interface HistoryKey {
  chatId: string;
  after?: number;
  before?: number;
  limit: number;
  direction: 'forward' | 'backward';
}

interface Entry {
  state: HistoryState;
  page: Page<MessageView>;
  bytes: number;
}

/** A rough size of an entry in memory: its key and bookkeeping, each message's fields, its text as UTF-16. */
function sizeOf(key: string, page: Page<MessageView>): number {
  let bytes = 512 + 2 * key.length + 2 * (page.nextCursor?.length ?? 0);
  for (const message of page.data) {
    bytes += 400 + 2 * (message.text?.length ?? 0) + 2 * (message.clientId?.length ?? 0);
  }
  return bytes;
}

/**
 * History pages as read at one state of their chat (`HistoryState`, migration 0010), least recently used first out,
 * within `maxBytes`. Exact, not timed: a page is served again only after the database has said, in the request's
 * own membership check, that the chat is still at the state the page was read at; any append, edit or delete by any
 * process moves the state on. Only reads outside a transaction fill it, so it never holds what a transaction saw
 * and then rolled back. Pages are frozen: every request shares them.
 */
export class HistoryCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly maxBytes: number) {}

  static keyOf(key: HistoryKey): string {
    return `${key.chatId}|${key.direction}|${key.after ?? ''}|${key.before ?? ''}|${key.limit}`;
  }

  /** The page cached for `key` at whatever state, to be confirmed against the database. */
  get(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry) {
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, state: HistoryState, page: Page<MessageView>): Page<MessageView> {
    const frozen = Object.freeze({
      ...page,
      data: Object.freeze(page.data.map((m) => Object.freeze(m))),
    }) as unknown as Page<MessageView>;
    const bytes = sizeOf(key, page);
    if (bytes > this.maxBytes) {
      return frozen;
    }
    this.delete(key);
    this.entries.set(key, { state, page: frozen, bytes });
    this.bytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) {
        break;
      }
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
    return frozen;
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
