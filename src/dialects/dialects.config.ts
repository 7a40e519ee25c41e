import { ConfigError, read, type Env } from '../env.ts';

export const DIALECTS = ['avito', 'instabug', 'drf', 'sourceloop'] as const;
export type Dialect = (typeof DIALECTS)[number];

/** DIALECTS=avito,drf: a comma-separated subset of the known dialects. */
export function dialectsConfig(env: Env): Dialect[] {
  const raw = read(env, 'DIALECTS');
  if (raw === undefined) {
    return [];
  }
  const names = raw
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  for (const name of names) {
    if (!(DIALECTS as readonly string[]).includes(name)) {
      throw new ConfigError('DIALECTS', `unknown dialect "${name}" (use ${DIALECTS.join(', ')})`);
    }
  }
  return [...new Set(names as Dialect[])];
}

/** A path to mount routes under: `/a/b`, without a trailing slash. */
export function mountPath(env: Env, name: string, fallback: string): string {
  const raw = read(env, name);
  if (raw === undefined) {
    return fallback;
  }
  const trimmed = raw.replace(/\/+$/, '');
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(trimmed)) {
    throw new ConfigError(name, `must be a path like /sourceloop, got "${raw}"`);
  }
  return trimmed;
}
