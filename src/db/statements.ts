/**
 * Which queries run as named prepared statements. PostgreSQL parses and plans an unnamed statement anew on every
 * execution; for Parley's short hot queries that is most of their cost (the history page: ~330 µs of server CPU
 * unnamed, ~110 µs prepared, measured on one connection pool of ten). A named statement is parsed once per
 * connection and, once PostgreSQL sees that a generic plan costs no more than the custom ones, planned once too.
 *
 * Bounded: a text is prepared from its second execution on (one-off texts never take a slot), at most `capacity`
 * texts per process, each under `MAX_TEXT` characters. Left unprepared: everything but plain DML, and search
 * (full-text and trigram queries, whose best plan depends on the words searched, so a generic plan is a risk).
 */
const MAX_TEXT = 16_000;
/** Texts seen once are remembered up to this many, then forgotten all at once (they were one-offs). */
const MAX_CANDIDATES = 5_000;
const DML = /^\s*(?:select|insert|update|delete|with)\b/i;
const SEARCH = /tsquery|similarity|\bilike\b|<%|%>/i;

export class StatementNames {
  private readonly names = new Map<string, string>();
  private readonly seen = new Set<string>();

  constructor(private readonly capacity = 500) {}

  /** The statement name for `text`, or undefined to run it unnamed. */
  nameFor(text: string): string | undefined {
    const name = this.names.get(text);
    if (name !== undefined) {
      return name;
    }
    if (this.names.size >= this.capacity || text.length > MAX_TEXT || !DML.test(text) || SEARCH.test(text)) {
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
    const assigned = `parley_${this.names.size + 1}`;
    this.names.set(text, assigned);
    return assigned;
  }

  get size(): number {
    return this.names.size;
  }
}

/**
 * The error PostgreSQL gives a prepared statement whose tables changed shape under it (another process migrated:
 * `select *` of a table that gained a column). The statement is useless on that connection from then on.
 */
export function isStalePlan(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  return e?.code === '0A000' && typeof e.message === 'string' && e.message.includes('cached plan');
}
