import { invalid } from './errors/codes.ts';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** Cursors are opaque to clients: base64url JSON of the last row's sort key. */
export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/**
 * The sort key a cursor carries, checked against its shape: `string`, `number` (a safe integer), or `time` (a
 * string that is a valid date, given back in ISO form, so that a forged cursor is a 400 and never a database error).
 */
export function decodeCursor(cursor: string, shape: readonly ('string' | 'number' | 'time')[]): unknown[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('cursor: is not a cursor this API returned');
  }
  if (!Array.isArray(key) || key.length !== shape.length || key.some((part, i) => !fits(part, shape[i]!))) {
    throw invalid('cursor: is not a cursor this API returned');
  }
  return key.map((part: unknown, i) => (shape[i] === 'time' ? new Date(part as string).toISOString() : part));
}

function fits(part: unknown, kind: 'string' | 'number' | 'time'): boolean {
  if (kind === 'time') {
    return typeof part === 'string' && !Number.isNaN(new Date(part).getTime());
  }
  return typeof part === kind && (typeof part !== 'number' || Number.isSafeInteger(part));
}

/** Takes `limit + 1` rows and turns the extra one into "there is a next page". */
export function pageOf<Row, View>(
  rows: Row[],
  limit: number,
  present: (row: Row) => View,
  keyOf: (row: Row) => unknown[],
): Page<View> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return {
    data: kept.map(present),
    nextCursor: more && last !== undefined ? encodeCursor(keyOf(last)) : null,
  };
}

/**
 * A page of a list ordered by a key of `shape` (`['time', 'string']`: a time and an id): `read` gets the key after
 * which the page starts (the cursor's; none for the first page) and `limit + 1` rows to read, and the last row kept
 * gives the next cursor.
 */
export async function keyedPage<Key extends unknown[], Row, View>(
  query: { cursor?: string | undefined; limit?: number | undefined },
  shape: readonly ('string' | 'number' | 'time')[],
  read: (page: { after?: Key; limit: number }) => Promise<Row[]>,
  present: (row: Row) => View,
  keyOf: (row: Row) => unknown[],
): Promise<Page<View>> {
  const limit = query.limit ?? DEFAULT_LIMIT;
  const after = query.cursor ? (decodeCursor(query.cursor, shape) as Key) : undefined;
  const rows = await read({ ...(after ? { after } : {}), limit: limit + 1 });
  return pageOf(rows, limit, present, keyOf);
}

/** Every item of a cursor-paged list, reading the largest pages: for callers whose own answer has no pages. */
export async function allPages<T>(
  read: (page: { limit: number; cursor?: string }) => Promise<Page<T>>,
): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<T> = await read({ limit: MAX_LIMIT, ...(cursor !== null ? { cursor } : {}) });
    all.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return all;
}
