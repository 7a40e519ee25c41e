import type { Filter, FilterCondition, FilterOrder, FilterScalar } from '../../messages/message.filter.ts';
import { ParameterError } from './sourceloop.errors.ts';

/**
 * The LoopBack filter compiler: `filter` and `where` as LoopBack clients send them (JSON or deep-object query
 * parameters) → Parley's structured filter over a model's fields, or an `invalid_request` error naming the path of
 * what is not supported (SourceLoop answers it 422). Pure: no request, no database; repositories turn the result
 * into parameterised SQL.
 */

/** What a LoopBack model's filters may name: property → Parley filter field, and how values are typed. */
export interface Model<F extends string> {
  name: string;
  properties: Record<string, F>;
  times: readonly F[];
  booleans: readonly F[];
  /** Integer properties: their values may come as query-string digits. */
  numbers?: readonly F[];
  /** Every property an answer shows, for `fields`. */
  shown: readonly string[];
  /** The relations the package's model declares, for `include`: name → the related model. */
  relations?: () => Record<string, Model<string>>;
}

/** `path: reason` → the parameter's refusal (LoopBack's 400 INVALID_PARAMETER_VALUE), naming the path. */
function invalid(message: string, code?: string): ParameterError {
  const at = message.indexOf(': ');
  const path = at < 0 ? 'filter' : message.slice(0, at);
  return new ParameterError(path.split(/[.[]/)[0] ?? 'filter', path, message.slice(at + 2), code);
}

type Scalar = '=' | '<>' | '>' | '>=' | '<' | '<=' | 'like' | 'not like' | 'ilike' | 'not ilike';
/** Every operator of LoopBack's `where` (its connectors' common set). */
const OPERATORS: Record<string, Scalar | 'in' | 'not in' | 'between' | 'regexp' | 'exists'> = {
  eq: '=',
  neq: '<>',
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
  like: 'like',
  nlike: 'not like',
  ilike: 'ilike',
  nilike: 'not ilike',
  inq: 'in',
  nin: 'not in',
  between: 'between',
  regexp: 'regexp',
  exists: 'exists',
};
const PATTERNS = new Set(['like', 'not like', 'ilike', 'not ilike', 'regexp']);
/** Longest `like` or `regexp` pattern: PostgreSQL's matching is bounded by the pattern as much as by the text. */
const MAX_PATTERN = 512;
/** LoopBack's `options` beside a `like`/`ilike`/`regexp` (`{"like": "hi", "options": "i"}`), read with it. */
const OPTION_KEYS = new Set(['options']);

export const MAX_LIMIT = 500;
export const DEFAULT_LIMIT = 100;
const MAX_SKIP = 1_000_000;
const MAX_CONDITIONS = 100;
const MAX_DEPTH = 8;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A list sent as JSON (an array) or as deep-object query parameters (`[0]`, `[1]`, ... keys). */
function asList(value: unknown, path: string): unknown[] {
  if (Array.isArray(value)) {
    return value;
  }
  if (isObject(value) && Object.keys(value).every((k) => /^\d+$/.test(k))) {
    return Object.keys(value)
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => value[k]);
  }
  throw invalid(`${path}: must be an array`);
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * A query parameter that LoopBack clients send either as JSON (`?filter={"where":...}`) or as a deep object
 * (`?filter[where][body]=hi&filter[limit]=5`).
 */
export function queryObject(query: unknown, name: string): Json | null {
  const params = isObject(query) ? query : {};
  const raw = params[name];
  if (typeof raw === 'string') {
    if (raw.trim() === '') {
      return null;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (error) {
      // As LoopBack says it: the data, and the parser's own complaint.
      const syntaxError = error instanceof Error ? error.message : 'invalid JSON';
      throw new ParameterError(name, name, 'is not valid JSON', 'INVALID_PARAMETER_VALUE', {
        raw,
        syntaxError,
      });
    }
    if (!isObject(parsed)) {
      throw invalid(`${name}: must be an object`);
    }
    return parsed;
  }
  let result: Json | null = null;
  for (const [key, value] of Object.entries(params)) {
    if (!key.startsWith(`${name}[`)) {
      continue;
    }
    const segments = [...key.slice(name.length).matchAll(/\[([^\]]*)\]/g)].map((m) => m[1] ?? '');
    if (
      segments.length === 0 ||
      segments.length > MAX_DEPTH * 2 ||
      segments.some((s) => FORBIDDEN_KEYS.has(s))
    ) {
      throw invalid(`${key}: is not a valid parameter`);
    }
    result ??= {};
    let node: Json = result;
    segments.forEach((segment, i) => {
      if (i === segments.length - 1) {
        node[segment] = Array.isArray(value) ? value[value.length - 1] : value;
        return;
      }
      const next = node[segment];
      node = isObject(next) ? next : (node[segment] = {});
    });
  }
  return result;
}

function scalar<F extends string>(
  value: unknown,
  path: string,
  field: F,
  op: string,
  model: Model<F>,
): FilterScalar {
  if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) {
    throw invalid(`${path}: must be a string, number, boolean or null`);
  }
  if (value !== null && model.times.includes(field)) {
    const time = new Date(value as string | number);
    if (typeof value === 'boolean' || Number.isNaN(time.getTime())) {
      throw invalid(`${path}: must be a date-time`);
    }
    return time.toISOString();
  }
  if (value !== null && model.booleans.includes(field)) {
    if (value === true || value === 'true') {
      return true;
    }
    if (value === false || value === 'false') {
      return false;
    }
    throw invalid(`${path}: must be true or false`);
  }
  if (value !== null && model.numbers?.includes(field)) {
    const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isInteger(number)) {
      throw invalid(`${path}: must be an integer`);
    }
    return number;
  }
  if (PATTERNS.has(op) && (typeof value !== 'string' || value.length > MAX_PATTERN)) {
    throw invalid(`${path}: must be a string pattern of at most ${MAX_PATTERN} characters`);
  }
  return value as FilterScalar;
}

/** One `property: {operator: operand}` → its condition. */
function operator<F extends string>(
  name: string,
  operand: unknown,
  path: string,
  field: F,
  options: string,
  model: Model<F>,
): FilterCondition<F> {
  const op = OPERATORS[name];
  if (!op) {
    throw invalid(`${path}: operator is not supported (use ${Object.keys(OPERATORS).join(', ')})`);
  }
  switch (op) {
    case 'in':
    case 'not in':
      return {
        field,
        op,
        value: asList(operand, path).map((item, i) => scalar(item, `${path}[${i}]`, field, op, model)),
      };
    case 'between': {
      const bounds = asList(operand, path);
      if (bounds.length !== 2) {
        throw invalid(`${path}: must be a list of two bounds`);
      }
      const [low, high] = bounds.map((item, i) => scalar(item, `${path}[${i}]`, field, op, model));
      return { field, op, value: [low ?? null, high ?? null] };
    }
    case 'exists': {
      if (operand !== true && operand !== false && operand !== 'true' && operand !== 'false') {
        throw invalid(`${path}: must be true or false`);
      }
      return { field, op, value: operand === true || operand === 'true' };
    }
    case 'regexp': {
      const source = scalar(operand, path, field, op, model) as string;
      // `/pattern/flags` as LoopBack clients serialise a RegExp; `i` is the one flag SQL can honour.
      const literal = /^\/(.*)\/([a-z]*)$/s.exec(source);
      const flags = `${literal?.[2] ?? ''}${options}`;
      const pattern = literal?.[1] ?? source;
      try {
        new RegExp(pattern);
      } catch {
        throw invalid(`${path}: is not a valid regular expression`);
      }
      return { field, op, value: pattern, ignoreCase: flags.includes('i') };
    }
    case 'like':
    case 'ilike':
      // `{"like": "hi", "options": "i"}` is LoopBack's case-insensitive like.
      return {
        field,
        op: options.includes('i') ? 'ilike' : op,
        value: scalar(operand, path, field, op, model),
      };
    case 'not like':
    case 'not ilike':
      return {
        field,
        op: options.includes('i') ? 'not ilike' : op,
        value: scalar(operand, path, field, op, model),
      };
    default:
      return { field, op, value: scalar(operand, path, field, op, model) };
  }
}

/** LoopBack `where` → Parley's structured condition; anything else is a 400 naming the path. */
export function compileWhere<F extends string>(
  where: unknown,
  model: Model<F>,
  path = 'where',
): FilterCondition<F> | null {
  let conditions = 0;
  const walk = (node: unknown, at: string, depth: number): FilterCondition<F> => {
    if (!isObject(node)) {
      throw invalid(`${at}: must be an object`);
    }
    if (depth > MAX_DEPTH) {
      throw invalid(`${at}: is nested too deeply (at most ${MAX_DEPTH} levels)`);
    }
    const parts: FilterCondition<F>[] = [];
    for (const [key, value] of Object.entries(node)) {
      if (++conditions > MAX_CONDITIONS) {
        throw invalid(`${path}: has more than ${MAX_CONDITIONS} conditions`);
      }
      if (key === 'and' || key === 'or') {
        const list = asList(value, `${at}.${key}`).map((item, i) =>
          walk(item, `${at}.${key}[${i}]`, depth + 1),
        );
        parts.push(key === 'and' ? { and: list } : { or: list });
        continue;
      }
      if (key === 'deleted') {
        // Deleted messages are never visible: `deleted: false` holds for every row, `deleted: true` for none.
        const wanted = isObject(value) ? value.eq : value;
        if (typeof wanted !== 'boolean' && wanted !== 'true' && wanted !== 'false') {
          throw invalid(`${at}.deleted: only equality with true or false is supported`);
        }
        parts.push(wanted === true || wanted === 'true' ? { or: [] } : { and: [] });
        continue;
      }
      const field = model.properties[key];
      if (!field) {
        throw invalid(`${at}.${key}: is not a property that can be filtered on`);
      }
      // A RegExp sent as JSON is `{}`-less text: `/^hi/i` or `^hi`; an object is a set of operators.
      const operations = isObject(value) ? Object.entries(value) : [['eq', value] as const];
      const options = isObject(value) && typeof value.options === 'string' ? value.options : '';
      for (const [name, operand] of operations) {
        if (isObject(value) && OPTION_KEYS.has(name)) {
          continue;
        }
        const opPath = `${at}.${key}${isObject(value) ? `.${name}` : ''}`;
        parts.push(operator(name, operand, opPath, field, options, model));
      }
    }
    return parts.length === 1 ? (parts[0] as FilterCondition<F>) : { and: parts };
  };
  return where === null || where === undefined ? null : walk(where, path, 0);
}

function whole(value: unknown, path: string, max: number, min = 0): number {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
    throw invalid(`${path}: must be a whole number from ${min} to ${max}`);
  }
  return number;
}

function compileOrder<F extends string>(order: unknown, model: Model<F>): FilterOrder<F>[] {
  if (order === undefined) {
    return [];
  }
  const list = typeof order === 'string' ? order.split(',') : asList(order, 'filter.order');
  return list.map((item, i) => {
    const match = typeof item === 'string' ? /^\s*(\w+)(?:\s+(asc|desc))?\s*$/i.exec(item) : null;
    const field = match ? model.properties[match[1] ?? ''] : undefined;
    if (!match || !field) {
      throw invalid(`filter.order[${i}]: must be "<property> ASC|DESC" with a known property`);
    }
    return { field, direction: (match[2] ?? 'asc').toLowerCase() === 'desc' ? 'desc' : 'asc' };
  });
}

/** Which properties to show: `fields` as `{"body": true}` (only these) / `{"body": false}` (all but), or a list. */
export type FieldSelection = (<T extends object>(item: T) => Partial<T>) | null;

function compileFields(fields: unknown, shown: readonly string[], name: string): FieldSelection {
  if (fields === undefined) {
    return null;
  }
  const entries: [string, boolean][] =
    Array.isArray(fields) || typeof fields === 'string'
      ? (typeof fields === 'string' ? fields.split(',') : fields).map((f) => [String(f).trim(), true])
      : isObject(fields) && !Object.keys(fields).every((k) => /^\d+$/.test(k))
        ? Object.entries(fields).map(([k, v]) => [k, v === true || v === 'true'])
        : asList(fields, 'filter.fields').map((f) => [String(f), true]);
  for (const [field] of entries) {
    if (!shown.includes(field)) {
      throw invalid(`filter.fields.${field}: is not a property of ${name}`);
    }
  }
  const included = entries.filter(([, on]) => on).map(([field]) => field);
  const excluded = entries.filter(([, on]) => !on).map(([field]) => field);
  return <T extends object>(item: T) =>
    Object.fromEntries(
      Object.entries(item).filter(([key]) =>
        included.length > 0 ? included.includes(key) : !excluded.includes(key),
      ),
    ) as Partial<T>;
}

const FILTER_KEYS = ['where', 'fields', 'order', 'limit', 'skip', 'offset', 'include'];

export interface CompiledFilter<F extends string> {
  filter: Filter<F>;
  fields: FieldSelection;
  /** The relations to include in each row, each with its own compiled scope. */
  include: Inclusion[];
}

/** One `include` entry: a relation of the model, and the filter (`scope`) its related rows are read with. */
export interface Inclusion {
  relation: string;
  scope: CompiledFilter<string>;
}

/** How deep `include` may nest through scopes. */
const MAX_INCLUDE_DEPTH = 3;

/** `include` as LoopBack takes it: a name, a list of names and `{relation, scope}` objects, or one such object. */
function compileInclude<F extends string>(include: unknown, model: Model<F>, depth: number): Inclusion[] {
  if (include === undefined) {
    return [];
  }
  const path = 'filter.include';
  const entries =
    typeof include === 'string' || (isObject(include) && 'relation' in include)
      ? [include]
      : asList(include, path);
  const relations = model.relations?.() ?? {};
  return entries.map((entry, i) => {
    const name = typeof entry === 'string' ? entry : isObject(entry) ? entry.relation : undefined;
    const target = typeof name === 'string' && Object.hasOwn(relations, name) ? relations[name] : undefined;
    if (typeof name !== 'string' || !target) {
      const known = Object.keys(relations).join(', ') || 'none';
      throw invalid(
        `${path}[${i}]: ${JSON.stringify(name)} is not a relation of ${model.name} (${known})`,
        'INVALID_INCLUSION_FILTER',
      );
    }
    if (depth >= MAX_INCLUDE_DEPTH) {
      throw invalid(`${path}[${i}]: is nested too deeply (at most ${MAX_INCLUDE_DEPTH} levels)`);
    }
    const scope = isObject(entry) && entry.scope !== undefined ? entry.scope : {};
    if (!isObject(scope)) {
      throw invalid(`${path}[${i}].scope: must be an object`);
    }
    return { relation: name, scope: compileFilter(scope, target, { allowWhere: true }, depth + 1) };
  });
}

/** LoopBack `filter` → Parley's message filter. `allowWhere: false` for the by-id routes, as LoopBack's schema. */
export function compileFilter<F extends string>(
  raw: Json | null,
  model: Model<F>,
  options: { allowWhere: boolean },
  depth = 0,
): CompiledFilter<F> {
  const filter = raw ?? {};
  for (const key of Object.keys(filter)) {
    if (!FILTER_KEYS.includes(key) || (key === 'where' && !options.allowWhere)) {
      throw invalid(`filter.${key}: is not a known filter property here`);
    }
  }
  const skip = filter.skip ?? filter.offset;
  return {
    filter: {
      where: compileWhere(filter.where, model, 'filter.where'),
      order: compileOrder(filter.order, model),
      offset: skip === undefined ? 0 : whole(skip, 'filter.skip', MAX_SKIP),
      // Capped, unlike the source: a missing or larger limit returns at most MAX_LIMIT rows.
      limit:
        filter.limit === undefined
          ? DEFAULT_LIMIT
          : Math.min(whole(filter.limit, 'filter.limit', 1e9, 1), MAX_LIMIT),
    },
    fields: compileFields(filter.fields, model.shown, model.name),
    include: compileInclude(filter.include, model, depth),
  };
}

export function both<F extends string>(
  ...conditions: (FilterCondition<F> | null)[]
): FilterCondition<F> | null {
  const present = conditions.filter((c): c is FilterCondition<F> => c !== null);
  if (present.length <= 1) {
    return present[0] ?? null;
  }
  return { and: present };
}

/** `?where=` (a count or a bulk change) compiled for `model`. */
export function whereParam<F extends string>(query: unknown, model: Model<F>): FilterCondition<F> | null {
  return compileWhere(queryObject(query, 'where'), model);
}

/** `?filter=` (a list, or a by-id read without `where`) compiled for `model`. */
export function filterParam<F extends string>(
  query: unknown,
  model: Model<F>,
  options: { allowWhere: boolean },
): CompiledFilter<F> {
  return compileFilter(queryObject(query, 'filter'), model, options);
}
