/**
 * Facts that never change once they exist (a chat's kind, the chat a tenant's number names, the tenant a token
 * names), remembered per database so that a hot path reads each once per process. Only for facts no operation
 * changes: whatever is looked up still has its own checks (a chat remembered here may since have been deleted).
 * Bounded: past `max` entries it forgets all at once and reads them again.
 */
export class Memo<V> {
  private readonly byDatabase = new WeakMap<object, Map<string, V>>();

  constructor(private readonly max = 10_000) {}

  /** The value remembered for `key` in `database`, else `load()`'s (remembered unless undefined). */
  async get(database: object, key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    let known = this.byDatabase.get(database);
    if (!known) {
      known = new Map();
      this.byDatabase.set(database, known);
    }
    if (known.has(key)) {
      return known.get(key);
    }
    const value = await load();
    if (value !== undefined) {
      if (known.size >= this.max) {
        known.clear();
      }
      known.set(key, value);
    }
    return value;
  }
}
