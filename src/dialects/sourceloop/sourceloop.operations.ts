import type { Actor } from '../../auth/actor.ts';
import type { Context } from '../../context.ts';
import { invalid } from '../../errors/codes.ts';
import type { Filter, FilterCondition } from '../../messages/message.filter.ts';
import { both, type Model } from './sourceloop.filter.ts';

/** Bulk updates and deletes visit matching rows in pages of this size. */
const BULK_PAGE = 500;

/**
 * What the operations every SourceLoop resource has (list, count, get, change, delete) need to know of one: its
 * model for filters, how a row is shown, and the Parley services that read and change its rows. `F` is the
 * filter field, `Row` what the services hand out, `View` what SourceLoop shows, `Body` a change (PATCH's body).
 */
export interface ResourceOperations<F extends string, Row, View extends object, Body extends object> {
  model: Model<F>;
  show(row: Row): View;
  /** Properties a change may repeat with their current values but not alter, in the order they are checked. */
  fixed: readonly (keyof Body & keyof View)[];
  /** The caller's own rows: the only ones a change with `where` touches. */
  own(actor: Actor): FilterCondition<F>;
  /** Lists may be shared (cached, frozen): never changed by their reader. */
  find(ctx: Context, actor: Actor, filter: Filter<F>): Promise<readonly Row[]>;
  count(ctx: Context, actor: Actor, where: FilterCondition<F> | null): Promise<number>;
  /** The row with this id among the caller's, or a 404. */
  get(ctx: Context, actor: Actor, id: string): Promise<Row>;
  /** PATCH changes what the body gives; PUT (`replace`) also resets what it leaves out, where that can change. */
  update(ctx: Context, actor: Actor, current: Row, body: Body, replace?: boolean): Promise<unknown>;
  remove(ctx: Context, actor: Actor, current: Row): Promise<void>;
}

/** Every row matching `where` (all pages), for the bulk routes. */
export async function everyMatch<F extends string, Row>(
  ctx: Context,
  resource: Pick<ResourceOperations<F, Row, object, object>, 'find'>,
  actor: Actor,
  where: FilterCondition<F> | null,
): Promise<Row[]> {
  const found: Row[] = [];
  for (let offset = 0; ; offset += BULK_PAGE) {
    const page = await resource.find(ctx, actor, { where, order: [], offset, limit: BULK_PAGE });
    found.push(...page);
    if (page.length < BULK_PAGE) {
      return found;
    }
  }
}

/** A change may repeat a row's fixed properties, not alter them; with no row (a change with `where`), not send them. */
function checkFixed<Row, View extends object, Body extends object>(
  resource: Pick<ResourceOperations<string, Row, View, Body>, 'fixed' | 'show'>,
  body: Body,
  current: Row | null,
): void {
  const now = current === null ? null : resource.show(current);
  for (const key of resource.fixed) {
    if (body[key] !== undefined && (now === null || body[key] !== now[key])) {
      throw invalid(`${String(key)}: cannot be changed`);
    }
  }
}

/** Applies `change` to each of the caller's own rows matching `where`; their count. */
export async function eachOwn<F extends string, Row, View extends object, Body extends object>(
  ctx: Context,
  resource: ResourceOperations<F, Row, View, Body>,
  actor: Actor,
  where: FilterCondition<F> | null,
  change: (current: Row) => Promise<unknown>,
): Promise<{ count: number }> {
  const mine = await everyMatch(ctx, resource, actor, both(where, resource.own(actor)));
  for (const current of mine) {
    await change(current);
  }
  return { count: mine.length };
}

/**
 * PATCH with `where`: the change to each of the caller's own matching rows; their count. A fixed property may be
 * sent with the value every matching row has (the upstream tests send a row's own channel); a row it would move
 * refuses the whole change before anything is written.
 */
export async function updateWhere<F extends string, Row, View extends object, Body extends object>(
  ctx: Context,
  resource: ResourceOperations<F, Row, View, Body>,
  actor: Actor,
  where: FilterCondition<F> | null,
  body: Body,
): Promise<{ count: number }> {
  const mine = await everyMatch(ctx, resource, actor, both(where, resource.own(actor)));
  for (const current of mine) {
    checkFixed(resource, body, current);
  }
  for (const current of mine) {
    await resource.update(ctx, actor, current, body);
  }
  return { count: mine.length };
}

/** PATCH and PUT by id. */
export async function updateOne<F extends string, Row, View extends object, Body extends object>(
  ctx: Context,
  resource: ResourceOperations<F, Row, View, Body>,
  actor: Actor,
  id: string,
  body: Body,
  replace = false,
): Promise<void> {
  const current = await resource.get(ctx, actor, id);
  checkFixed(resource, body, current);
  await resource.update(ctx, actor, current, body, replace);
}

/** DELETE by id. */
export async function removeOne<F extends string, Row, View extends object, Body extends object>(
  ctx: Context,
  resource: ResourceOperations<F, Row, View, Body>,
  actor: Actor,
  id: string,
): Promise<void> {
  await resource.remove(ctx, actor, await resource.get(ctx, actor, id));
}
