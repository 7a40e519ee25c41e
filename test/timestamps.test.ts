import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import pg from 'pg';
import { parseTimestamptz } from '../src/db/timestamps.ts';

const general = pg.types.getTypeParser(1184, 'text') as (value: string) => Date | number | null;
const two = (n: number) => String(n).padStart(2, '0');

/** A timestamptz as PostgreSQL may write it: any fraction length, offsets in hours, minutes or seconds, BC. */
const written = fc
  .record({
    year: fc.integer({ min: 1, max: 9999 }),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 28 }),
    hour: fc.integer({ min: 0, max: 23 }),
    minute: fc.integer({ min: 0, max: 59 }),
    second: fc.integer({ min: 0, max: 59 }),
    fraction: fc.stringMatching(/^\d{0,6}$/),
    offsetHours: fc.integer({ min: -15, max: 15 }),
    offsetMinutes: fc.constantFrom(0, 0, 30, 45),
    offsetSeconds: fc.constantFrom(0, 0, 0, 12),
    bc: fc.integer({ min: 1, max: 10 }).map((n) => n === 1),
  })
  .map((t) => {
    const sign = t.offsetHours < 0 ? '-' : '+';
    const offset =
      `${sign}${two(Math.abs(t.offsetHours))}` +
      (t.offsetMinutes || t.offsetSeconds ? `:${two(t.offsetMinutes)}` : '') +
      (t.offsetSeconds ? `:${two(t.offsetSeconds)}` : '');
    return (
      `${String(t.year).padStart(4, '0')}-${two(t.month)}-${two(t.day)} ` +
      `${two(t.hour)}:${two(t.minute)}:${two(t.second)}${t.fraction ? `.${t.fraction}` : ''}${offset}` +
      (t.bc ? ' BC' : '')
    );
  });

const same = (value: string) => {
  const fast = parseTimestamptz(value);
  const slow = general(value);
  assert.equal(
    fast instanceof Date ? fast.getTime() : fast,
    slow instanceof Date ? slow.getTime() : slow,
    value,
  );
};

describe('timestamptz parsing', () => {
  it('gives the same instant as the general parser for anything PostgreSQL writes', () => {
    fc.assert(
      fc.property(written, (value) => same(value)),
      { numRuns: 20_000 },
    );
  });

  it('and for the odd cases', () => {
    for (const value of [
      'infinity',
      '-infinity',
      '2026-12-02 01:23:45+00',
      '2026-12-02 01:23:45.1+00',
      '2026-12-02 01:23:45.999999+00',
      '2026-12-02 01:23:45.123456-09:30',
      '0099-06-01 00:00:00+00',
      '2026-12-02 01:23:45+05:30:15',
      '2026-12-02 01:23:45+00 BC',
      '12026-12-02 01:23:45+00',
    ]) {
      same(value);
    }
  });
});
