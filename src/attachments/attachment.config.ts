import { createHmac, randomBytes } from 'node:crypto';
import path from 'node:path';
import { ConfigError, integer, isMemory, read, type Env } from '../env.ts';

/** What one tenant may upload. */
export interface FileLimits {
  /** Largest file, in bytes. */
  maxBytes: number;
  /** Accepted content types: `image/png`, or a whole family: `image/*`. */
  types: string[];
}

/** Uploaded files (docs/files.md): where they are kept, what is accepted, how long links live. */
export interface FilesConfig {
  /**
   * The local store's directory (PARLEY_FILES_DIR, default `files` under PARLEY_DATA_DIR); null with an in-memory
   * data directory: a temporary directory, removed when the runtime closes.
   */
  dir: string | null;
  /** Every tenant's limits (PARLEY_FILES_MAX_MB, PARLEY_FILES_TYPES). */
  limits: FileLimits;
  /** Tenants with limits of their own (PARLEY_FILES_TENANTS: JSON `{"tenant": {"maxMb": 5, "types": [...]}}`). */
  tenants: Record<string, FileLimits>;
  /** The key download links are signed with (PARLEY_FILES_SECRET; by default derived from the JWT secret). */
  secret: string;
  /** How long a signed download link works (PARLEY_FILES_URL_TTL_S). */
  urlTtlSeconds: number;
  /** How long a file no message references is kept (PARLEY_FILES_GRACE_S). */
  graceSeconds: number;
  /** How often the sweeper runs (PARLEY_FILES_SWEEP_S); 0: never (a test runs it by hand). */
  sweepSeconds: number;
}

export const DEFAULT_FILE_TYPES = ['image/*', 'application/pdf', 'text/plain', 'application/octet-stream'];
const TYPE_PATTERN = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)$/;

function typesOf(variable: string, raw: unknown): string[] {
  const list = typeof raw === 'string' ? raw.split(',').map((t) => t.trim().toLowerCase()) : raw;
  if (!Array.isArray(list) || list.some((t) => typeof t !== 'string' || !TYPE_PATTERN.test(t))) {
    throw new ConfigError(variable, 'must list content types (type/subtype or type/*), comma-separated');
  }
  return list as string[];
}

function tenantLimits(env: Env, base: FileLimits): Record<string, FileLimits> {
  const raw = read(env, 'PARLEY_FILES_TENANTS');
  if (raw === undefined) {
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError('PARLEY_FILES_TENANTS', 'must be a JSON object of tenant → {maxMb, types}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('PARLEY_FILES_TENANTS', 'must be a JSON object of tenant → {maxMb, types}');
  }
  const tenants: Record<string, FileLimits> = {};
  for (const [tenant, value] of Object.entries(parsed as Record<string, unknown>)) {
    const entry = (value ?? {}) as { maxMb?: unknown; maxBytes?: unknown; types?: unknown };
    let maxBytes = base.maxBytes;
    if (entry.maxBytes !== undefined || entry.maxMb !== undefined) {
      const n = Number(entry.maxBytes ?? Number(entry.maxMb) * 1024 * 1024);
      if (!Number.isSafeInteger(n) || n < 1) {
        throw new ConfigError('PARLEY_FILES_TENANTS', `${tenant}: maxMb / maxBytes must be positive`);
      }
      maxBytes = n;
    }
    const types = entry.types === undefined ? base.types : typesOf('PARLEY_FILES_TENANTS', entry.types);
    tenants[tenant] = { maxBytes, types };
  }
  return tenants;
}

export function filesConfig(env: Env, dataDir: string, jwtSecret: string | null): FilesConfig {
  const dirRaw = read(env, 'PARLEY_FILES_DIR');
  const dir = dirRaw ? path.resolve(dirRaw) : isMemory(dataDir) ? null : path.join(dataDir, 'files');
  const limits: FileLimits = {
    maxBytes: integer(env, 'PARLEY_FILES_MAX_MB', 100, 1, 64 * 1024) * 1024 * 1024,
    types: typesOf('PARLEY_FILES_TYPES', read(env, 'PARLEY_FILES_TYPES') ?? DEFAULT_FILE_TYPES.join(',')),
  };
  const explicit = read(env, 'PARLEY_FILES_SECRET');
  if (explicit !== undefined && explicit.length < 16) {
    throw new ConfigError('PARLEY_FILES_SECRET', 'must be at least 16 characters');
  }
  // Derived, not the JWT secret itself: a download link never reveals anything a token could be signed with.
  const secret =
    explicit ??
    (jwtSecret
      ? createHmac('sha256', jwtSecret).update('parley file links').digest('base64url')
      : randomBytes(32).toString('base64url'));
  return {
    dir,
    limits,
    tenants: tenantLimits(env, limits),
    secret,
    urlTtlSeconds: integer(env, 'PARLEY_FILES_URL_TTL_S', 300, 5, 7 * 24 * 3600),
    graceSeconds: integer(env, 'PARLEY_FILES_GRACE_S', 24 * 3600, 0, 365 * 24 * 3600),
    sweepSeconds: integer(env, 'PARLEY_FILES_SWEEP_S', 600, 0, 24 * 3600),
  };
}

/** The limits of one tenant. */
export function limitsFor(config: FilesConfig, tenantId: string): FileLimits {
  return config.tenants[tenantId] ?? config.limits;
}

/** Whether `type` is among `accepted` (exactly, or by its family: `image/*`). */
export function typeAccepted(accepted: string[], type: string): boolean {
  const family = `${type.split('/')[0]}/*`;
  return accepted.includes(type) || accepted.includes(family);
}
