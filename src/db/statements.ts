import { sql, type RawBuilder } from 'kysely';

/**
 * Which queries run as named prepared statements. PostgreSQL parses and plans an unnamed statement anew on every
 * execution; for Parley's short hot queries that is most of their cost (the history page: ~330 µs of server CPU
 * unnamed, ~110 µs prepared, measured on one connection pool of ten). A named statement is parsed once per
 * connection and, once PostgreSQL sees that a generic plan costs no more than the custom ones, planned once too.
 *
 * Bounded: a text is prepared from its second execution on (one-off texts never take a slot), at most `capacity`
 * texts per process, each under `MAX_TEXT` characters. Left unprepared, as their texts come in unbounded variety
 * or their best plan depends on the values:
 * - everything but plain DML;
 * - search (full-text, trigram and `like` matching, whose best plan depends on the words searched);
 * - lists of values written out (`in ($1, $2, …)`, multi-row `values`): a text per length;
 * - texts that carry `UNPREPARED`.
 * Queries built from a client's filter and order (the SourceLoop dialect's) carry `CLIENT_SHAPED`: a few shapes are
 * most of the traffic (a channel's newest messages, its count), and planning them is most of their cost (~1.4 ms
 * against ~0.2 ms running), so they are prepared like the others, but no more than a tenth of `capacity` of them:
 * a client sending ever new shapes cannot take the slots of the native queries. Their values are bound parameters
 * as everywhere, and `like` and value lists stay unprepared by the rules above.
 * Once `capacity` texts are prepared, any others run unnamed: slower, never wrong.
 */
const MAX_TEXT = 4_000;
/** Texts seen once are remembered up to this many, then forgotten all at once (they were one-offs). */
const MAX_CANDIDATES = 2_000;
const DML = /^\s*(?:select|insert|update|delete|with)\b/i;
const SEARCH = /tsquery|similarity|\b(?:i?like)\b|<%|%>/i;
const VALUE_LIST = /\(\s*\$\d+\s*,\s*\$\d+|\)\s*,\s*\(\s*\$\d+/;

/** Marks a query text that must not be prepared. */
export const UNPREPARED = '/* parley:unprepared */';
/** Marks a query text whose shape a client chose (a filter's fields and operators): prepared within a budget. */
export const CLIENT_SHAPED = '/* parley:client-shaped */';

export class StatementNames {
  private readonly names = new Map<string, string>();
  private readonly seen = new Set<string>();
  private readonly clientShapedCapacity: number;
  private clientShaped = 0;

  constructor(private readonly capacity = 500) {
    this.clientShapedCapacity = Math.floor(capacity / 10);
  }

  /** The statement name for `text`, or undefined to run it unnamed. */
  nameFor(text: string): string | undefined {
    const name = this.names.get(text);
    if (name !== undefined) {
      return name;
    }
    if (
      this.names.size >= this.capacity ||
      text.length > MAX_TEXT ||
      !DML.test(text) ||
      SEARCH.test(text) ||
      VALUE_LIST.test(text) ||
      text.includes(UNPREPARED)
    ) {
      return undefined;
    }
    const shaped = text.includes(CLIENT_SHAPED);
    if (shaped && this.clientShaped >= this.clientShapedCapacity) {
      return undefined;
    }
    if (!this.seen.has(text)) {
      if (this.seen.size >= MAX_CANDIDATES) {
        this.seen.clear();
      }
      this.seen.add(text);
      return undefined;
    }
    this.seen.delete(text);
    if (shaped) {
      this.clientShaped += 1;
    }
    const assigned = `parley_${this.names.size + 1}`;
    this.names.set(text, assigned);
    return assigned;
  }

  get size(): number {
    return this.names.size;
  }
}

/**
 * Errors that say the connection's prepared statements are not what the driver believes: PostgreSQL's for a
 * statement whose tables changed shape under it (another process migrated: `select *` of a table that gained a
 * column), and a statement missing or already there, as behind a pooler that hands out server connections per
 * transaction. Either way the connection forgets what it prepared and the query runs again.
 */
export function isStatementLost(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (e?.code === '0A000') {
    return typeof e.message === 'string' && e.message.includes('cached plan');
  }
  // 26000 invalid_sql_statement_name (does not exist), 42P05 duplicate_prepared_statement.
  return e?.code === '26000' || e?.code === '42P05';
}

/**
 * A user's id as the planner should see it in a prepared statement keyed by user: through a scalar subquery, so
 * that no plan depends on which user it is. With the id as a plain parameter, PostgreSQL estimates each execution
 * for the user at hand (a user in few chats looks cheaper than the average) and, finding that cheaper than the
 * generic plan, plans the statement anew every time: ~0.3 ms of server CPU per request for the unread summary, more
 * than running it. Behind the subquery every execution costs the same, the generic plan wins after five, and it is
 * planned once per connection. The index is used as before (`members_user_idx`, the subquery's value as its key).
 */
export function anyUser(userId: string): RawBuilder<string> {
  return sql<string>`(select ${userId}::text)`;
}
