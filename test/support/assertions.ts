import assert from 'node:assert/strict';
import type { Response } from './app.ts';

/** Asserts an error answer: status, stable code, and (when given) a fragment of the message, e.g. the field. */
export function assertError(res: Response, status: number, code: string, messageIncludes?: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body?.error?.code, code, JSON.stringify(res.body));
  assert.equal(typeof res.body.error.message, 'string');
  if (messageIncludes !== undefined) {
    assert.ok(
      res.body.error.message.includes(messageIncludes),
      `expected "${messageIncludes}" in message "${res.body.error.message}"`,
    );
  }
}
