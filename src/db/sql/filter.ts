import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../database.ts';
import type { FilterCondition, FilterOrder } from '../../messages/message.filter.ts';

/**
 * The structured-filter compiler every repository with a filtered listing shares. Each gives it a fixed map from the
 * filter's field names to SQL expressions of its own query; nothing a client sends becomes SQL text.
 */

/** A condition as SQL: field names come from a fixed map of expressions, every value is a bound parameter. */
export function filterSql<F extends string>(
  condition: FilterCondition<F>,
  fields: Record<F, RawBuilder<unknown>>,
): RawBuilder<unknown> {
  const recurse = (inner: FilterCondition<F>) => filterSql(inner, fields);
  if ('and' in condition) {
    return condition.and.length === 0
      ? sql`true`
      : sql`(${sql.join(condition.and.map(recurse), sql` and `)})`;
  }
  if ('or' in condition) {
    return condition.or.length === 0 ? sql`false` : sql`(${sql.join(condition.or.map(recurse), sql` or `)})`;
  }
  const field = fields[condition.field];
  switch (condition.op) {
    case 'in':
      return condition.value.length === 0 ? sql`false` : sql`${field} in (${sql.join(condition.value)})`;
    case 'not in':
      // Like `<>`: a row without a value is not in the list.
      return condition.value.length === 0
        ? sql`true`
        : sql`not coalesce(${field} in (${sql.join(condition.value)}), false)`;
    case 'between':
      return sql`${field} between ${condition.value[0]} and ${condition.value[1]}`;
    case 'regexp':
      return condition.ignoreCase
        ? sql`${field}::text ~* ${condition.value}`
        : sql`${field}::text ~ ${condition.value}`;
    case 'exists':
      return condition.value ? sql`${field} is not null` : sql`${field} is null`;
    case '=':
      return condition.value === null ? sql`${field} is null` : sql`${field} = ${condition.value}`;
    case '<>':
      return condition.value === null
        ? sql`${field} is not null`
        : sql`${field} is distinct from ${condition.value}`;
    case '>':
      return sql`${field} > ${condition.value}`;
    case '>=':
      return sql`${field} >= ${condition.value}`;
    case '<':
      return sql`${field} < ${condition.value}`;
    case '<=':
      return sql`${field} <= ${condition.value}`;
    case 'like':
      return sql`${field}::text like ${condition.value}`;
    case 'not like':
      return sql`${field}::text not like ${condition.value}`;
    case 'ilike':
      return sql`${field}::text ilike ${condition.value}`;
    case 'not ilike':
      return sql`${field}::text not ilike ${condition.value}`;
  }
}

/** `order by` items for a filter's order, over the same fixed map of expressions. */
export function orderSql<F extends string>(
  order: FilterOrder<F>[],
  fields: Record<F, RawBuilder<unknown>>,
): RawBuilder<unknown>[] {
  return order.map((o) => sql`${fields[o.field]} ${o.direction === 'desc' ? sql`desc` : sql`asc`}`);
}

/** How many rows a `from … where …` clause of a filtered listing selects. */
export async function countRows(db: Db, from: RawBuilder<unknown>): Promise<number> {
  const result = await sql<{ count: number }>`select count(*)::int as count ${from}`.execute(db);
  return result.rows[0]?.count ?? 0;
}
