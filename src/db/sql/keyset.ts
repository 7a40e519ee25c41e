import { sql, type RawBuilder, type SqlBool } from 'kysely';

/**
 * The rows of a page keyed by (time, id) that come after the previous page's last key `[time, id]`: later ones
 * (`asc`) or earlier ones (`desc`), ties on the time broken by the id. Spelled `t > x or (t = x and id > y)`, as the
 * pages' `(time, id)` indexes are read; the query orders by both columns in the same direction.
 */
export function pastTimeKey(
  timeColumn: string,
  idColumn: string,
  key: [string, string],
  direction: 'asc' | 'desc',
): RawBuilder<SqlBool> {
  const [time, id] = [sql.ref(timeColumn), sql.ref(idColumn)];
  const at = new Date(key[0]);
  const past = sql.raw(direction === 'asc' ? '>' : '<');
  return sql<SqlBool>`(${time} ${past} ${at} or (${time} = ${at} and ${id} ${past} ${key[1]}))`;
}
