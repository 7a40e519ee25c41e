import pg from 'pg';

const TIMESTAMPTZ_OID = 1184;
const general = pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (value: string) => Date | number | null;

const isDigit = (code: number) => code >= 48 && code <= 57;

/** `count` digits at `at`, as a number; NaN when any of them is not a digit. */
function digits(value: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const code = value.charCodeAt(i);
    if (!isDigit(code)) {
      return Number.NaN;
    }
    n = n * 10 + code - 48;
  }
  return n;
}

/**
 * A `timestamptz` as PostgreSQL writes it with its default DateStyle (ISO): `2026-12-02 01:23:45.123456+00`, or
 * with a `+05:30` offset. Every message and chat row carries a few; the general parser (a regular expression and
 * several passes over the text) is the largest single cost of reading a page of them. Anything else — years before
 * 1000, BC, an offset with seconds, infinity — goes to the general parser, so the result is always the same Date
 * (sub-millisecond digits are dropped, as there).
 */
export function parseTimestamptz(value: string): Date | number | null {
  const length = value.length;
  if (
    length >= 22 &&
    value.charCodeAt(4) === 45 &&
    value.charCodeAt(7) === 45 &&
    value.charCodeAt(10) === 32
  ) {
    const year = digits(value, 0, 4);
    const month = digits(value, 5, 2);
    const day = digits(value, 8, 2);
    const hour = digits(value, 11, 2);
    const minute = digits(value, 14, 2);
    const second = digits(value, 17, 2);
    let at = 19;
    let ms = 0;
    if (value.charCodeAt(at) === 46) {
      let end = at + 1;
      while (end < length && isDigit(value.charCodeAt(end))) {
        end++;
      }
      const fraction = end - at - 1;
      ms =
        fraction >= 3
          ? digits(value, at + 1, 3)
          : digits(value, at + 1, fraction) * (fraction === 1 ? 100 : 10);
      at = end;
    }
    const sign = value.charCodeAt(at);
    if (
      year >= 1000 &&
      value.charCodeAt(13) === 58 &&
      value.charCodeAt(16) === 58 &&
      (sign === 43 || sign === 45)
    ) {
      let offset = digits(value, at + 1, 2) * 60;
      if (at + 3 === length) {
        // +HH
      } else if (at + 6 === length && value.charCodeAt(at + 3) === 58) {
        offset += digits(value, at + 4, 2);
      } else {
        offset = Number.NaN;
      }
      const time =
        Date.UTC(year, month - 1, day, hour, minute, second, ms) - (sign === 43 ? 1 : -1) * offset * 60_000;
      if (Number.isFinite(time)) {
        return new Date(time);
      }
    }
  }
  return general(value);
}
