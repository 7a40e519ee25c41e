import { boolean, ConfigError, read, type Env } from '../env.ts';
import {
  attributeNames,
  foreignKeyNames,
  isResourceType,
  OPERATIONS,
  RESOURCE_TYPES,
  type ResourceType,
} from './jsonapi.fields.ts';

/** The JSON:API representation (docs/jsonapi.md), modelled on the LoopBack JSON:API component's options. */
export interface JsonApiConfig {
  /** Answer `Accept: application/vnd.api+json` and read JSON:API bodies at all. */
  enabled: boolean;
  /** What links start with (before `/v1`), for a service behind a proxy; null: the request's protocol and host. */
  publicUrl: string | null;
  /** Per type, the only attributes shown; a type not named shows all of its attributes. */
  attributes: Partial<Record<ResourceType, string[]>>;
  /** Types (`messages`) and operations (`users.create`) that do not speak JSON:API. */
  exclude: string[];
  /** Per type, the foreign keys shown as attributes too (they are always relationships). */
  foreignKeys: Partial<Record<ResourceType, string[]>>;
}

/** The same settings as plugin options for an application that embeds Parley; each one replaces the config's. */
export interface JsonApiOptions {
  enabled?: boolean;
  publicUrl?: string | null;
  attributes?: Partial<Record<ResourceType, string[]>>;
  exclude?: string[];
  /** `true` for every foreign key of every type, or per type `true` / a list. */
  foreignKeys?: boolean | Partial<Record<ResourceType, boolean | string[]>>;
}

const JSONAPI_DEFAULTS: JsonApiConfig = {
  enabled: true,
  publicUrl: null,
  attributes: {},
  exclude: [],
  foreignKeys: {},
};

/** Which setting an error names: the environment variable, or the plugin option. */
type JsonApiNames = Record<'publicUrl' | 'attributes' | 'exclude' | 'foreignKeys', string>;

const JSONAPI_ENV_NAMES: JsonApiNames = {
  publicUrl: 'PARLEY_PUBLIC_URL',
  attributes: 'PARLEY_JSONAPI_ATTRIBUTES',
  exclude: 'PARLEY_JSONAPI_EXCLUDE',
  foreignKeys: 'PARLEY_JSONAPI_FOREIGN_KEYS',
};

function resourceType(variable: string, name: string): ResourceType {
  if (!isResourceType(name)) {
    throw new ConfigError(variable, `unknown type "${name}" (types: ${RESOURCE_TYPES.join(', ')})`);
  }
  return name;
}

/** `users:username,displayName;chats:name` → [[users, [username, displayName]], [chats, [name]]]; `messages` alone → null. */
function typeLists(variable: string, raw: string): [ResourceType, string[] | null][] {
  const entries = raw
    .split(';')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return entries.map((entry) => {
    const colon = entry.indexOf(':');
    const type = resourceType(variable, (colon < 0 ? entry : entry.slice(0, colon)).trim());
    if (colon < 0) {
      return [type, null];
    }
    const names = entry
      .slice(colon + 1)
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '');
    if (names.length === 0) {
      throw new ConfigError(variable, `names no fields for ${type} (expected "${type}:field,field")`);
    }
    return [type, names];
  });
}

function knownNames(
  variable: string,
  type: ResourceType,
  names: string[],
  known: string[],
  what: string,
): void {
  for (const name of names) {
    if (!known.includes(name)) {
      const others = known.length > 0 ? known.join(', ') : 'none';
      throw new ConfigError(variable, `${type} has no ${what} "${name}" (${what}s: ${others})`);
    }
  }
}

/** Checks JSON:API settings and puts them over `base`: how the environment and plugin options both arrive. */
function resolveJsonApi(options: JsonApiOptions, base: JsonApiConfig, names: JsonApiNames): JsonApiConfig {
  const resolved: JsonApiConfig = { ...base };
  if (options.enabled !== undefined) {
    resolved.enabled = options.enabled;
  }
  if (options.publicUrl !== undefined) {
    resolved.publicUrl = options.publicUrl === null ? null : publicUrl(names.publicUrl, options.publicUrl);
  }
  if (options.attributes !== undefined) {
    for (const [type, list] of Object.entries(options.attributes)) {
      const known = attributeNames(resourceType(names.attributes, type));
      const foreignKeys = foreignKeyNames(type as ResourceType);
      const foreignKey = (list ?? []).find((name) => foreignKeys.includes(name));
      if (foreignKey !== undefined) {
        throw new ConfigError(
          names.attributes,
          `${type}.${foreignKey} is a foreign key: show it with ${names.foreignKeys}`,
        );
      }
      knownNames(names.attributes, type as ResourceType, list ?? [], known, 'attribute');
    }
    resolved.attributes = options.attributes;
  }
  if (options.exclude !== undefined) {
    for (const entry of options.exclude) {
      const [type = '', operation, extra] = entry.split('.');
      resourceType(names.exclude, type);
      if (
        extra !== undefined ||
        (operation !== undefined && !(OPERATIONS as readonly string[]).includes(operation))
      ) {
        throw new ConfigError(
          names.exclude,
          `"${entry}" is not a type or type.operation (operations: ${OPERATIONS.join(', ')})`,
        );
      }
    }
    resolved.exclude = options.exclude;
  }
  if (options.foreignKeys !== undefined) {
    const all = RESOURCE_TYPES.map((type) => [type, options.foreignKeys === true] as const);
    const chosen = typeof options.foreignKeys === 'boolean' ? all : Object.entries(options.foreignKeys);
    const foreignKeys: JsonApiConfig['foreignKeys'] = {};
    for (const [name, choice] of chosen) {
      const type = resourceType(names.foreignKeys, name);
      const known = foreignKeyNames(type);
      const list = choice === true ? known : choice === false || choice === undefined ? [] : choice;
      knownNames(names.foreignKeys, type, list, known, 'foreign key');
      if (list.length > 0) {
        foreignKeys[type] = list;
      }
    }
    resolved.foreignKeys = foreignKeys;
  }
  return resolved;
}

function publicUrl(variable: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(variable, `is not a valid URL (expected https://host/path), got "${raw}"`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') {
    throw new ConfigError(variable, `must be an http(s) URL without query or fragment, got "${raw}"`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

export function jsonApiConfig(env: Env): JsonApiConfig {
  const attributes = read(env, 'PARLEY_JSONAPI_ATTRIBUTES');
  const exclude = read(env, 'PARLEY_JSONAPI_EXCLUDE');
  const foreignKeys = read(env, 'PARLEY_JSONAPI_FOREIGN_KEYS');
  const url = read(env, 'PARLEY_PUBLIC_URL');
  const options: JsonApiOptions = { enabled: boolean(env, ['PARLEY_JSONAPI'], true) };
  if (url !== undefined) {
    options.publicUrl = url;
  }
  if (attributes !== undefined) {
    options.attributes = {};
    for (const [type, list] of typeLists('PARLEY_JSONAPI_ATTRIBUTES', attributes)) {
      if (list === null) {
        throw new ConfigError(
          'PARLEY_JSONAPI_ATTRIBUTES',
          `names no fields for ${type} (expected "${type}:a,b")`,
        );
      }
      options.attributes[type] = list;
    }
  }
  if (exclude !== undefined) {
    options.exclude = exclude
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
  }
  if (foreignKeys !== undefined) {
    const lower = foreignKeys.toLowerCase();
    options.foreignKeys =
      lower === 'true' || lower === 'false'
        ? lower === 'true'
        : Object.fromEntries(
            typeLists('PARLEY_JSONAPI_FOREIGN_KEYS', foreignKeys).map(([t, l]) => [t, l ?? true]),
          );
  }
  return resolveJsonApi(options, JSONAPI_DEFAULTS, JSONAPI_ENV_NAMES);
}

/**
 * JSON:API settings given as plugin options, over the config's: checked like the environment variables, with
 * errors naming the option (`jsonapi.attributes: ...`).
 */
export function withJsonApiOptions(base: JsonApiConfig, options: JsonApiOptions): JsonApiConfig {
  return resolveJsonApi(options, base, {
    publicUrl: 'jsonapi.publicUrl',
    attributes: 'jsonapi.attributes',
    exclude: 'jsonapi.exclude',
    foreignKeys: 'jsonapi.foreignKeys',
  });
}
