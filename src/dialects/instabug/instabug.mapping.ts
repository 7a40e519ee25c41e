import type { Actor } from '../../auth/actor.ts';
import { invalid, notFound } from '../../errors/codes.ts';

/**
 * Instabug has no users: every application (a Parley tenant) has one system user who creates its chats (as their
 * owner) and writes its messages. Its id is the same in every application.
 */
export const SYSTEM_USER = { id: 'instabug', username: 'instabug', displayName: 'Instabug' } as const;

/** The chat name Parley stores for a chat created without one (Instabug chats often have none). */
export const DEFAULT_CHAT_NAME = 'Chat';

export function systemActor(tenantId: string): Actor {
  return {
    tenantId,
    userId: SYSTEM_USER.id,
    isAdmin: false,
    permissions: [],
    profile: { username: SYSTEM_USER.username, displayName: SYSTEM_USER.displayName },
  };
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The first of `names` present in the body, flat (`{"name"}`) or wrapped Rails-style (`{"application": {"name"}}`).
 * A present value must be a string; other fields are ignored, as Rails' strong parameters do.
 */
export function pickText(body: unknown, wrapper: string, names: readonly string[]): string | undefined {
  const sources = isObject(body) ? [body, ...(isObject(body[wrapper]) ? [body[wrapper]] : [])] : [];
  for (const source of sources) {
    for (const name of names) {
      const value = source[name];
      if (value === undefined || value === null) {
        continue;
      }
      if (typeof value !== 'string') {
        throw invalid(`${name}: must be a string`);
      }
      return value;
    }
  }
  return undefined;
}

/** The first of `names` present and not blank, else 422 naming the first name, in Rails' words. */
export function requireText(body: unknown, wrapper: string, names: readonly string[]): string {
  const value = pickText(body, wrapper, names);
  if (value === undefined || value.trim() === '') {
    throw invalid(`${names[0]}: can't be blank`);
  }
  return value;
}

/** A chat or message number in a path: a positive whole number, else the resource does not exist. */
export function pathNumber(raw: string, what: string): number {
  const value = /^\d{1,15}$/.test(raw) ? Number(raw) : 0;
  if (value < 1) {
    throw notFound(`no ${what} ${raw}`);
  }
  return value;
}

const MAX_PER_PAGE = 200;
const DEFAULT_PER_PAGE = 100;

function queryInteger(query: Json, name: string, fallback: number, max: number): number {
  const raw = query[name];
  if (raw === undefined || raw === '') {
    return fallback;
  }
  const value = typeof raw === 'string' && /^\d{1,9}$/.test(raw) ? Number(raw) : 0;
  if (value < 1 || value > max) {
    throw invalid(`${name}: must be a whole number from 1 to ${max}`);
  }
  return value;
}

/**
 * `?page=` (from 1) and `?per_page=` (1..200, default 100), as Rails' paginating gems read them; null when the
 * query names neither: then the whole list is answered, as the originals do.
 */
export function pageOf(query: unknown): { offset: number; limit: number } | null {
  const q = isObject(query) ? query : {};
  if ((q.page === undefined || q.page === '') && (q.per_page === undefined || q.per_page === '')) {
    return null;
  }
  const page = queryInteger(q, 'page', 1, 1_000_000);
  const limit = queryInteger(q, 'per_page', DEFAULT_PER_PAGE, MAX_PER_PAGE);
  return { offset: (page - 1) * limit, limit };
}

/** The search words: `search_query`, `query` or `q`, from the query string or the body. */
export function searchText(query: unknown, body: unknown): string {
  const names = ['search_query', 'query', 'q'] as const;
  return pickText(query, '', names) ?? pickText(body, 'message', names) ?? '';
}
