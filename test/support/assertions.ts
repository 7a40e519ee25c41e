import assert from 'node:assert/strict';
import type { ErrorBody } from './api.ts';

/** What an error answer is checked against; headers as the test app or `fetch` gives them. */
export interface ErrorAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, unknown> | Headers;
}

/**
 * What the error's message must say: a string names the field the error is about (the message starts with
 * `field:`), a RegExp must match the message; `{ includes }` asks for a fragment anywhere in it.
 */
export type ErrorMatch = string | RegExp | { includes: string };

function contentType(headers: ErrorAnswer['headers']): string | undefined {
  if (headers === undefined) {
    return undefined;
  }
  if (headers instanceof Headers) {
    return headers.get('content-type') ?? '';
  }
  return String(headers['content-type'] ?? '');
}

/**
 * Asserts an error answer in the standard body: the status, `application/json` (when the answer has headers),
 * `{"error": {"code", "message", "details"?}}` and nothing else, the stable `code`, a non-empty message, details as
 * a list when present, no stack trace; and, when given, what the message says (see `ErrorMatch`). Returns the error.
 * JSON:API error documents are checked by `assertErrors` (support/jsonapi.ts).
 */
export function assertError(
  res: ErrorAnswer,
  status: number,
  code: ErrorBody['error']['code'],
  match?: ErrorMatch,
): ErrorBody['error'] {
  const shown = JSON.stringify(res.body);
  assert.equal(res.status, status, shown);
  const type = contentType(res.headers);
  if (type !== undefined) {
    assert.match(type, /^application\/json/, shown);
  }
  assert.ok(typeof res.body === 'object' && res.body !== null, shown);
  assert.deepEqual(Object.keys(res.body), ['error'], shown);
  const { error } = res.body as ErrorBody;
  assert.ok(typeof error === 'object' && error !== null, shown);
  const extra = Object.keys(error).filter((key) => !['code', 'message', 'details'].includes(key));
  assert.deepEqual(extra, [], `unexpected keys in ${shown}`);
  assert.equal(error.code, code, shown);
  assert.equal(typeof error.message, 'string', shown);
  assert.ok(error.message.length > 0, shown);
  if (error.details !== undefined) {
    assert.ok(Array.isArray(error.details), shown);
    for (const detail of error.details) {
      assert.ok(typeof detail === 'object' && detail !== null && !Array.isArray(detail), shown);
    }
  }
  assert.ok(!shown.includes('    at '), `a stack trace in ${shown}`);
  if (typeof match === 'string') {
    assert.ok(error.message.startsWith(`${match}:`), `message names ${match}: ${error.message}`);
  } else if (match instanceof RegExp) {
    assert.match(error.message, match);
  } else if (match !== undefined) {
    assert.ok(
      error.message.includes(match.includes),
      `expected "${match.includes}" in message "${error.message}"`,
    );
  }
  return error;
}
