import fc from 'fast-check';

/**
 * fast-check arbitraries derived from the routes' JSON schemas (the TypeBox schemas the routes validate with):
 * values the schema accepts ("valid-ish": within bounds, but with any characters), values it must refuse (wrong
 * types, out of range, too long, unknown fields, missing fields), and the hostile strings every text field gets.
 */

export interface JsonSchema {
  type?: string;
  const?: unknown;
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  patternProperties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  minProperties?: number;
  items?: JsonSchema;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
}

/** Values to use for a field instead of (or besides) what its schema alone would give: real ids, real seqs. */
export type Pools = Record<string, fc.Arbitrary<unknown>>;

/** Strings that have broken services before: SQL and LIKE metacharacters, escapes, NUL, lone surrogates, bidi. */
export const HOSTILE_STRINGS = [
  "'; drop table messages; --",
  "' or '1'='1",
  '" or 1=1 --',
  "x'); delete from users where ('a'='a",
  '%',
  '_',
  '%_%',
  '\\',
  '\\\\%',
  '$1',
  '${jndi:ldap://x}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'a\ud83d',
  '\ud83dz',
  '\u202e\u0645\u0631\u062d\u0628\u0627',
  '\u200b\u200d\ufeff',
  'e\u0301\u0301\u0301',
  '😀👩‍👩‍👧‍👦',
  '名前',
  ' ',
  '\t\n\r',
  '',
  'null',
  'undefined',
  'NaN',
  '-1',
  '0',
  '1e400',
  '__proto__',
  'constructor',
  'OR',
  '-',
  '"',
  '""',
  '*:',
  '!()&|<->',
];

/** One character (or unit) of fuzzed text: mostly printable ASCII, often anything Unicode has, sometimes trouble. */
const unit = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('\u0000', '\ud800', '\udc00', "'", '"', '\\', '%', ';', '\u202e', '😀', 'é'),
  },
);

/** Text of `min`..`max` units (kept short: long text is what the invalid side is for). */
export function text(min = 0, max = 40): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.string({ unit, minLength: min, maxLength: Math.max(min, max) }) },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(...HOSTILE_STRINGS)
        .filter((s) => [...s].length >= min && [...s].length <= Math.max(min, max)),
    },
  );
}

/** Text longer than `limit` units: just over it, or far over it. */
export function longText(limit: number): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom('a', 'é', '😀', '\u0000', ' ', "'"), fc.integer({ min: 1, max: 4 }))
    .map(([char, scale]) => char.repeat(limit + (scale === 4 ? 50_000 : scale)));
}

const USERNAME_CHARS = 'abcdefghijklmnopqrstuvwxyzABCXYZ0123456789._@+-éßЖ名ñ'.split('');

function stringFor(schema: JsonSchema): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = Math.min(schema.maxLength ?? 60, 60);
  if (schema.pattern) {
    const pattern = new RegExp(schema.pattern, 'u');
    return fc
      .array(fc.constantFrom(...USERNAME_CHARS), { minLength: Math.max(min, 1), maxLength: max })
      .map((chars) => chars.join(''))
      .filter((s) => pattern.test(s));
  }
  return text(min, max);
}

function integerFor(schema: JsonSchema): fc.Arbitrary<number> {
  const min = schema.minimum ?? -1_000_000;
  const max = schema.maximum ?? min + 1_000_000;
  return fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min, max: Math.min(max, min + 50) }) },
    { weight: 1, arbitrary: fc.constantFrom(min, max) },
    { weight: 1, arbitrary: fc.integer({ min: Math.max(min, -(2 ** 31)), max: Math.min(max, 2 ** 31) }) },
  );
}

/**
 * A value the schema accepts (for a field named `field`, from `pools` when there is one). Strings stay within
 * their length but take any character.
 */
export function validValue(schema: JsonSchema, pools: Pools = {}, field?: string): fc.Arbitrary<unknown> {
  // A pool gives the field's values; for an array field, its items'.
  const pool = field !== undefined && schema.type !== 'array' ? pools[field] : undefined;
  const own = schemaValue(schema, pools, field);
  return pool ? fc.oneof({ weight: 3, arbitrary: pool }, { weight: 1, arbitrary: own }) : own;
}

function schemaValue(schema: JsonSchema, pools: Pools, field?: string): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) {
    return fc.constant(schema.const);
  }
  if (schema.anyOf) {
    return fc.oneof(...schema.anyOf.map((branch) => schemaValue(branch, pools, field)));
  }
  switch (schema.type) {
    case 'string':
      return stringFor(schema);
    case 'integer':
      return integerFor(schema);
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(validValue(schema.items ?? {}, pools, field), {
        maxLength: Math.min(schema.maxItems ?? 4, 4),
      });
    case 'object':
      return objectValue(schema, pools);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function objectValue(schema: JsonSchema, pools: Pools): fc.Arbitrary<unknown> {
  const properties = schema.properties ?? {};
  const names = Object.keys(properties);
  if (names.length === 0) {
    return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 });
  }
  const shape = Object.fromEntries(
    names.map((name) => [name, validValue(properties[name] ?? {}, pools, name)]),
  );
  const record = fc.record(shape, { requiredKeys: schema.required ?? [] });
  const least = schema.minProperties ?? 0;
  return least > 0 ? record.filter((value) => Object.keys(value).length >= least) : record;
}

/** Values that are not of the schema's type at all. */
function otherTypes(schema: JsonSchema): fc.Arbitrary<unknown> {
  const all: [string, fc.Arbitrary<unknown>][] = [
    ['string', text(0, 12)],
    ['integer', fc.integer()],
    ['number', fc.constantFrom(1.5, -0.25, 1e308, -1e308, 5e-324)],
    ['boolean', fc.boolean()],
    ['null', fc.constant(null)],
    ['array', fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 })],
    ['object', fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 })],
  ];
  const allowed = new Set(
    (schema.anyOf ?? [schema]).map((branch) => branch.type).filter((t): t is string => t !== undefined),
  );
  if (allowed.has('number')) {
    allowed.add('integer');
  }
  const others = all.filter(([type]) => !allowed.has(type)).map(([, arbitrary]) => arbitrary);
  return others.length > 0 ? fc.oneof(...others) : fc.constant(undefined);
}

/**
 * A value the schema refuses, or most often does: callers that need certainty check it with the route's own
 * validator. Wrong types, numbers out of range or not whole, strings too long or too short or not matching.
 */
export function invalidValue(schema: JsonSchema): fc.Arbitrary<unknown> {
  const options: fc.Arbitrary<unknown>[] = [otherTypes(schema)];
  const branches = schema.anyOf ?? [schema];
  for (const branch of branches) {
    if (branch.const !== undefined) {
      options.push(fc.constantFrom(`${String(branch.const)}x`, String(branch.const).toUpperCase(), ''));
    }
    if (branch.type === 'integer' || branch.type === 'number') {
      const edges = [1.5, -0.5, 1e20, -1e20, 2 ** 53, 2 ** 63, 1e308];
      if (branch.minimum !== undefined) {
        edges.push(branch.minimum - 1, branch.minimum - 1_000_000);
      }
      if (branch.maximum !== undefined) {
        edges.push(branch.maximum + 1, branch.maximum * 10 + 7);
      }
      options.push(fc.constantFrom(...edges));
    }
    if (branch.type === 'string') {
      if (branch.maxLength !== undefined) {
        options.push(longText(branch.maxLength));
      }
      if ((branch.minLength ?? 0) > 0) {
        options.push(fc.constant(''));
      }
      if (branch.pattern) {
        options.push(fc.constantFrom(' ', 'a b', 'a/b', "a'b", 'a\u0000b', '\ud800', 'a;b'));
      }
    }
    if (branch.type === 'array') {
      options.push(fc.array(invalidValue(branch.items ?? {}), { minLength: 1, maxLength: 3 }));
      if (branch.maxItems !== undefined) {
        options.push(fc.constant(Array.from({ length: branch.maxItems + 1 }, (_, i) => `x${i}`)));
      }
    }
    if (branch.type === 'object') {
      options.push(invalidObject(branch));
    }
  }
  return fc.oneof(...options);
}

/** An object its schema refuses: an unknown field, a required one missing, or one field invalid. */
export function invalidObject(schema: JsonSchema, pools: Pools = {}): fc.Arbitrary<unknown> {
  const properties = schema.properties ?? {};
  const names = Object.keys(properties);
  const base = objectValue(schema, pools) as fc.Arbitrary<Record<string, unknown>>;
  const options: fc.Arbitrary<unknown>[] = [otherTypes(schema)];
  if (schema.additionalProperties === false) {
    options.push(
      fc
        .tuple(base, fc.constantFrom('extra', '__proto__x', 'constructor', 'id ', 'Text', 'x'.repeat(300)))
        .filter(([, name]) => !names.includes(name))
        .map(([value, name]) => ({ ...value, [name]: 1 })),
    );
  }
  for (const name of schema.required ?? []) {
    options.push(
      base.map((value) => {
        const copy = { ...value };
        delete copy[name];
        return copy;
      }),
    );
  }
  for (const name of names) {
    options.push(
      fc
        .tuple(base, invalidValue(properties[name] ?? {}))
        .map(([value, wrong]) => ({ ...value, [name]: wrong })),
    );
  }
  if ((schema.minProperties ?? 0) > 0) {
    options.push(fc.constant({}));
  }
  return fc.oneof(...options);
}

/** Mostly what the schema accepts (`odds` to 1), sometimes what it refuses. */
export function anyValue(
  schema: JsonSchema,
  pools: Pools = {},
  field?: string,
  odds = 3,
): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: odds, arbitrary: validValue(schema, pools, field) },
    { weight: 1, arbitrary: invalidValue(schema) },
  );
}

/** An object per its schema, mostly valid (`odds` to 1), else with a field invalid, missing or unknown. */
export function anyObject(schema: JsonSchema, pools: Pools = {}, odds = 3): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: odds, arbitrary: validValue(schema, pools) },
    { weight: 1, arbitrary: invalidObject(schema, pools) },
  );
}

/**
 * A path segment or query value as a client would put it in a URL: percent-encoded, except that a lone
 * surrogate (which `encodeURIComponent` cannot encode) is sent as the three bytes a careless encoder would write.
 */
export function encodeComponent(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    const isHigh = code >= 0xd800 && code <= 0xdbff;
    const next = value.charCodeAt(i + 1);
    if (isHigh && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(value.slice(i, i + 2));
      i++;
      continue;
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      const bytes = [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)];
      out += bytes.map((b) => `%${b.toString(16).toUpperCase()}`).join('');
      continue;
    }
    out += encodeURIComponent(value[i]!);
  }
  return out;
}

/** How a value travels in a query string or path: numbers and strings as text, anything else as JSON. */
export function asText(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) {
    return String(value);
  }
  return JSON.stringify(value) ?? '';
}
