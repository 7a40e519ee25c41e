import { invalid } from '../errors/codes.ts';

/**
 * The search syntax, read the way PostgreSQL's websearch_to_tsquery reads it, so that the full-text half (done by
 * PostgreSQL itself) and the partial-word half (built from this) agree on what was asked:
 *   words        all must match                          deploy friday
 *   "a phrase"   these words in this order               "release notes"
 *   or / OR      either side (binds looser than AND)     invoice OR receipt
 *   -word        excludes messages with the word         deploy -staging     (also -"a phrase")
 */

export interface SearchTerm {
  /** As typed, without quotes or the leading minus. */
  text: string;
  phrase: boolean;
}

/** All of `include`, none of `exclude`: one side of an OR. */
export interface SearchGroup {
  include: SearchTerm[];
  exclude: SearchTerm[];
}

export interface ParsedQuery {
  /** The query as sent to websearch_to_tsquery: the input, trimmed. */
  text: string;
  /** Alternatives: a message matches when it matches any group. */
  groups: SearchGroup[];
}

export const MAX_QUERY_CHARS = 200;
export const MAX_TERMS = 16;

/** Partial-word matching needs three letters or digits in a row: fewer cannot use the trigram index. */
const SUBSTRING_MATCHABLE = /[\p{L}\p{N}]{3}/u;

export function isSubstringMatchable(term: SearchTerm): boolean {
  return SUBSTRING_MATCHABLE.test(term.text);
}

interface Token {
  kind: 'term' | 'or';
  term?: SearchTerm;
  exclude?: boolean;
}

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input.charAt(i);
    if (/\s/u.test(ch)) {
      i++;
      continue;
    }
    let exclude = false;
    while (input.charAt(i) === '-') {
      exclude = true;
      i++;
    }
    if (input.charAt(i) === '"') {
      const close = input.indexOf('"', i + 1);
      const end = close === -1 ? input.length : close;
      const text = input
        .slice(i + 1, end)
        .trim()
        .replace(/\s+/gu, ' ');
      i = end + 1;
      if (text !== '') {
        tokens.push({ kind: 'term', term: { text, phrase: true }, exclude });
      }
      continue;
    }
    let end = i;
    while (end < input.length && !/\s/u.test(input.charAt(end)) && input.charAt(end) !== '"') {
      end++;
    }
    const text = input.slice(i, end);
    i = end;
    if (text === '') {
      continue;
    }
    if (!exclude && text.toLowerCase() === 'or') {
      tokens.push({ kind: 'or' });
      continue;
    }
    tokens.push({ kind: 'term', term: { text, phrase: false }, exclude });
  }
  return tokens;
}

/**
 * Parses `q` and enforces the limits: not blank, at most MAX_TERMS terms, something to look for in every
 * alternative (a query of exclusions alone would have to read every message).
 */
export function parseQuery(q: string): ParsedQuery {
  const text = q.trim();
  if (text === '') {
    throw invalid('q: must not be blank');
  }
  if ([...text].length > MAX_QUERY_CHARS) {
    throw invalid(`q: must be at most ${MAX_QUERY_CHARS} characters`);
  }
  const groups: SearchGroup[] = [];
  let current: SearchGroup = { include: [], exclude: [] };
  let terms = 0;
  for (const token of tokenize(text)) {
    if (token.kind === 'or') {
      if (current.include.length > 0 || current.exclude.length > 0) {
        groups.push(current);
        current = { include: [], exclude: [] };
      }
      continue;
    }
    terms++;
    (token.exclude ? current.exclude : current.include).push(token.term!);
  }
  if (current.include.length > 0 || current.exclude.length > 0) {
    groups.push(current);
  }
  if (terms > MAX_TERMS) {
    throw invalid(`q: must have at most ${MAX_TERMS} words or phrases`);
  }
  if (groups.length === 0) {
    throw invalid('q: must contain a word to look for');
  }
  if (groups.some((g) => g.include.length === 0)) {
    throw invalid('q: must contain a word to look for, not only -exclusions, on each side of OR');
  }
  return { text, groups };
}
