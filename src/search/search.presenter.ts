import { presentMessage } from '../messages/message.presenter.ts';
import { MARK_END, MARK_START, type SearchRow } from './search.repository.ts';
import type { SearchHitView } from './search.schema.ts';

/** A highlight shows the whole message up to this many characters, else a window of it around the first match. */
export const SNIPPET_CHARS = 200;
/** How much text a window keeps before the first match. */
const LEAD_CHARS = 60;

type Range = [start: number, end: number];

/**
 * Folds one character the way `parley_fold` (lower(unaccent(...))) does for the common cases: decomposes it, drops
 * the accents, lowercases, and spells out the letters unaccent rewrites as two. Used only to find where a partial-word
 * term sits in the original text; matching itself is done by PostgreSQL.
 */
const SPELLED: Record<string, string> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  đ: 'd',
  ł: 'l',
  þ: 'th',
  ı: 'i',
};

function foldChar(ch: string): string {
  const lower = ch.toLowerCase();
  const spelled = SPELLED[lower];
  if (spelled !== undefined) {
    return spelled;
  }
  return lower.normalize('NFKD').replace(/\p{M}/gu, '');
}

export function foldText(text: string): string {
  let folded = '';
  for (const ch of text) {
    folded += foldChar(ch);
  }
  return folded;
}

/** Where each term occurs in `text`, ignoring case and accents, as ranges of `text`. */
function substringRanges(text: string, terms: string[]): Range[] {
  let folded = '';
  // For each UTF-16 unit of `folded`: the start and the end of the character of `text` it came from.
  const starts: number[] = [];
  const ends: number[] = [];
  let offset = 0;
  for (const ch of text) {
    const f = foldChar(ch);
    for (let k = 0; k < f.length; k++) {
      starts.push(offset);
      ends.push(offset + ch.length);
    }
    folded += f;
    offset += ch.length;
  }
  const ranges: Range[] = [];
  for (const term of terms) {
    const needle = foldText(term);
    if (needle === '') {
      continue;
    }
    for (let at = folded.indexOf(needle); at !== -1; at = folded.indexOf(needle, at + needle.length)) {
      ranges.push([starts[at]!, ends[at + needle.length - 1]!]);
    }
  }
  return ranges;
}

/** Splits ts_headline's output into the plain text and the ranges it marked. */
function parseHeadline(headline: string): { text: string; ranges: Range[] } {
  let text = '';
  const ranges: Range[] = [];
  let open = -1;
  for (const ch of headline) {
    if (ch === MARK_START) {
      open = text.length;
    } else if (ch === MARK_END) {
      if (open >= 0 && text.length > open) {
        ranges.push([open, text.length]);
      }
      open = -1;
    } else {
      text += ch;
    }
  }
  return { text, ranges };
}

function mergeRanges(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: Range[] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1]) {
      last[1] = Math.max(last[1], range[1]);
    } else {
      merged.push([range[0], range[1]]);
    }
  }
  return merged;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]!);
}

/** Moves `index` off the second half of a surrogate pair, so a cut never splits a character. */
function safeCut(text: string, index: number): number {
  const code = text.charCodeAt(index);
  return index > 0 && index < text.length && code >= 0xdc00 && code <= 0xdfff ? index - 1 : index;
}

/** The part of the text to show: all of it when short, else ~SNIPPET_CHARS around the first match, cut at spaces. */
function snippetWindow(text: string, ranges: Range[]): Range {
  if (text.length <= SNIPPET_CHARS) {
    return [0, text.length];
  }
  const first = ranges[0] ?? [0, 0];
  let start = Math.max(0, first[0] - LEAD_CHARS);
  if (start > 0) {
    const space = text.indexOf(' ', start);
    start = space !== -1 && space < first[0] ? space + 1 : start;
  }
  let end = Math.min(text.length, Math.max(start + SNIPPET_CHARS, first[1]));
  if (end < text.length) {
    const space = text.lastIndexOf(' ', end);
    end = space > first[1] ? space : end;
  }
  return [safeCut(text, start), safeCut(text, end)];
}

/**
 * The highlight: HTML-escaped text with each match in <mark>…</mark>. Whole words come marked by ts_headline (it
 * knows stems: "running" marks "runs"); parts of words are found here, for the terms that were matched as substrings.
 */
export function highlight(headline: string, partialTerms: string[]): string {
  const { text, ranges: wordRanges } = parseHeadline(headline);
  const ranges = mergeRanges([...wordRanges, ...substringRanges(text, partialTerms)]);
  const [start, end] = snippetWindow(text, ranges);
  let out = start > 0 ? '…' : '';
  let at = start;
  for (const [from, to] of ranges) {
    if (to <= start || from >= end) {
      continue;
    }
    const a = Math.max(from, start);
    const b = Math.min(to, end);
    out += `${escapeHtml(text.slice(at, a))}<mark>${escapeHtml(text.slice(a, b))}</mark>`;
    at = b;
  }
  out += escapeHtml(text.slice(at, end));
  return end < text.length ? `${out}…` : out;
}

export function presentSearchHit(row: SearchRow, partialTerms: string[]): SearchHitView {
  return {
    message: presentMessage(row),
    highlight: highlight(row.headline, partialTerms),
    rank: row.score / 1_000_000,
  };
}
