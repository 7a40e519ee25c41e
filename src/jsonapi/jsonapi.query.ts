import { invalid, type AppError } from '../errors/codes.ts';
import { noIncludes, type IncludeTree, type Presentation } from './jsonapi.document.ts';
import { isResourceType, RESOURCE_TYPES, type ResourceType } from './jsonapi.fields.ts';
import { relationshipNames, relationshipOf } from './jsonapi.resources.ts';
import type { RouteSpec } from './jsonapi.spec.ts';

/** A JSON:API query, read: what to include and show, and the native query it stands for. */
export interface ParsedQuery {
  include: IncludeTree;
  fields: Map<ResourceType, Set<string>>;
  /** The query the route's native schema validates (`page[size]` → `limit`, `filter[q]` → `q`). */
  native: Record<string, string>;
  /** Native query field → the JSON:API parameter it came from, so errors name what the client sent. */
  names: Map<string, string>;
  /** Parameters every link of the document carries again (all but the page position). */
  carried: [string, string][];
  /** Where the page starts, as asked. */
  position: { cursor?: string; after?: string; before?: string };
}

/** Native query names a JSON:API client should spell differently (they are all-lowercase: reserved by JSON:API). */
export const SPELLED = new Map([
  ['limit', 'page[size]'],
  ['cursor', 'page[cursor]'],
  ['after', 'page[after]'],
  ['before', 'page[before]'],
  ['username', 'filter[username]'],
  ['q', 'filter[q]'],
]);

function refuse(parameter: string, problem: string): AppError {
  return invalid(`${parameter}: ${problem}`, [{ field: parameter, in: 'querystring', problem }]);
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

function parseInclude(type: ResourceType, value: string): IncludeTree {
  const root = noIncludes();
  for (const path of list(value)) {
    let node = root;
    let current = type;
    for (const name of path.split('.')) {
      const relationship = relationshipOf(current, name);
      if (!relationship) {
        const known = relationshipNames(current);
        throw refuse(
          'include',
          `${current} have no relationship "${name}"${path === name ? '' : ` (in "${path}")`}; ` +
            (known.length > 0 ? `relationships: ${known.join(', ')}` : 'they have no relationships'),
        );
      }
      let child = node.children.get(name);
      if (!child) {
        child = noIncludes();
        node.children.set(name, child);
      }
      node = child;
      current = relationship.type;
    }
  }
  return root;
}

function parseFields(type: string, value: string, presentation: Presentation): [ResourceType, Set<string>] {
  const parameter = `fields[${type}]`;
  if (!isResourceType(type)) {
    throw refuse(parameter, `there is no type "${type}" (types: ${RESOURCE_TYPES.join(', ')})`);
  }
  const known = presentation.fieldNames(type);
  const names = list(value);
  const unknown = names.find((name) => !known.includes(name));
  if (unknown !== undefined) {
    throw refuse(parameter, `${type} have no field "${unknown}" (fields: ${known.join(', ')})`);
  }
  return [type, new Set(names)];
}

/**
 * Reads the JSON:API query parameters of a request (include, fields[type], sort, page[...], filter[...]) for one
 * route. What the route does not support is a 400 naming the parameter; JSON:API reserves all-lowercase names, so
 * a native `limit` is refused with the JSON:API spelling; other names go to the native schema as they are.
 */
export function parseQuery(
  raw: Record<string, unknown>,
  spec: RouteSpec,
  presentation: Presentation,
): ParsedQuery {
  const parsed: ParsedQuery = {
    include: noIncludes(),
    fields: new Map(),
    // No prototype: a parameter named `__proto__` must become a field the schema refuses, not vanish.
    native: Object.create(null) as Record<string, string>,
    names: new Map(),
    carried: [],
    position: {},
  };
  const listSpec = spec.list;
  // Native names of what a list takes, so that errors about them (a missing filter too) name the JSON:API spelling.
  if (listSpec) {
    parsed.names.set('limit', 'page[size]').set('cursor', 'page[cursor]');
    if (listSpec.bounds) {
      parsed.names.set('after', 'page[after]').set('before', 'page[before]');
    }
    for (const filter of listSpec.filters ?? []) {
      parsed.names.set(filter, `filter[${filter}]`);
    }
  }
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'string') {
      throw refuse(key, 'must be given once');
    }
    const family = /^(fields|page|filter)\[([^\]]*)\]$/.exec(key);
    if (key === 'include') {
      if (spec.returns !== 'resource' && spec.returns !== 'page' && spec.returns !== 'search') {
        throw refuse(key, 'this endpoint has no related resources to include');
      }
      parsed.include = parseInclude(spec.type, value);
      parsed.carried.push([key, value]);
    } else if (key === 'sort') {
      const orders = listSpec?.sort;
      if (orders === undefined) {
        throw refuse(key, 'this endpoint is not a sortable list');
      }
      if (!Object.hasOwn(orders, value)) {
        throw refuse(key, `"${value}" is not supported (${Object.keys(orders).join(' or ')})`);
      }
      Object.assign(parsed.native, orders[value]);
      parsed.carried.push([key, value]);
    } else if (family?.[1] === 'fields') {
      const [type, names] = parseFields(family[2] ?? '', value, presentation);
      parsed.fields.set(type, names);
      parsed.carried.push([key, value]);
    } else if (family?.[1] === 'page') {
      const name = family[2] ?? '';
      const bounds = listSpec?.bounds === true && (name === 'after' || name === 'before');
      if (!listSpec) {
        throw refuse(key, 'this endpoint is not a list');
      }
      if (name !== 'size' && name !== 'cursor' && !bounds) {
        throw refuse(
          key,
          `is not supported (use page[size] and page[cursor]${listSpec.bounds ? ', page[after], page[before]' : ''})`,
        );
      }
      const native = name === 'size' ? 'limit' : name;
      parsed.native[native] = value;
      if (name === 'size') {
        parsed.carried.push([key, value]);
      } else {
        parsed.position[name as 'cursor' | 'after' | 'before'] = value;
      }
    } else if (family?.[1] === 'filter') {
      const name = family[2] ?? '';
      const filters = listSpec?.filters ?? [];
      if (!filters.includes(name)) {
        throw refuse(
          key,
          filters.length > 0
            ? `is not a filter of this list (filters: ${filters.map((f) => `filter[${f}]`).join(', ')})`
            : 'this endpoint has no filters',
        );
      }
      parsed.native[name] = value;
      parsed.carried.push([key, value]);
    } else if (/^[a-z]+$/.test(key)) {
      const spelled = SPELLED.get(key);
      throw refuse(key, `is not a JSON:API query parameter${spelled ? `; use ${spelled}` : ''}`);
    } else {
      parsed.native[key] = value;
    }
  }
  return parsed;
}
