/**
 * What a text mentions, read when it is sent or edited: every `@token` whose `@` starts a word, the token made of the
 * characters usernames may hold. Each token is tried as a username as written and without trailing punctuation
 * (`@bob.` names bob); `@all` and `@here` are also the broadcasts. Case does not matter (usernames are unique
 * case-insensitively). Only the first `MAX_MENTION_NAMES` distinct names are looked up: the rest stay plain text.
 */

export const MAX_MENTION_NAMES = 50;

const USERNAME_CHAR = '[\\p{L}\\p{N}._@+-]';
const TOKEN = new RegExp(`(?<!${USERNAME_CHAR})@(${USERNAME_CHAR}+)`, 'gu');
const TRAILING = /[._@+-]+$/u;

export interface MentionCandidates {
  /** Candidate usernames, lower-cased, at most `MAX_MENTION_NAMES`. */
  names: string[];
  all: boolean;
  here: boolean;
}

export function mentionCandidates(text: string): MentionCandidates {
  const names = new Set<string>();
  let all = false;
  let here = false;
  for (const match of text.matchAll(TOKEN)) {
    const token = match[1]!.toLowerCase();
    const trimmed = token.replace(TRAILING, '');
    for (const name of [token, trimmed]) {
      if (name === '' || names.size >= MAX_MENTION_NAMES) {
        continue;
      }
      names.add(name);
      all ||= name === 'all';
      here ||= name === 'here';
    }
  }
  return { names: [...names], all, here };
}

/** True when the text has nothing to resolve: most messages, which then add nothing to their statement. */
export function mentionsNothing(candidates: MentionCandidates): boolean {
  return candidates.names.length === 0;
}
