import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newId } from '../src/ids.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('ids', () => {
  it('are UUIDv7s, all different, across many refills of the random pool', () => {
    const ids = Array.from({ length: 20_000 }, () => newId());
    for (const id of ids) {
      assert.match(id, UUID_V7);
    }
    assert.equal(new Set(ids).size, ids.length);
    // No two share their random part either: no byte of the pool is handed out twice.
    assert.equal(new Set(ids.map((id) => id.slice(14))).size, ids.length);
  });

  it('carry the time they were made in their first 48 bits, so they sort by time', () => {
    const before = Date.now();
    const ids = Array.from({ length: 1_000 }, () => newId());
    const after = Date.now();
    const millis = ids.map((id) => parseInt(id.replace(/-/g, '').slice(0, 12), 16));
    for (const [i, ms] of millis.entries()) {
      assert.ok(ms >= before && ms <= after, `${ms} in [${before}, ${after}]`);
      assert.ok(i === 0 || ms >= millis[i - 1]!);
    }
  });
});
