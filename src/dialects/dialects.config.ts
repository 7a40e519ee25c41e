import { isIP } from 'node:net';
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

/** The dialects without tokens of their own: anyone who reaches them may act as any of their users. */
export const GATED_DIALECTS = ['avito', 'drf', 'instabug'] as const;
export type GatedDialect = (typeof GATED_DIALECTS)[number];

/** One entry of an allow-list: an address and how many of its leading bits a client's must share. */
export interface AllowedNetwork {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** An optional lock on a dialect (docs/dialects/README.md, "Gate"): a shared key, allowed networks, or both. */
export interface DialectGate {
  /** PARLEY_DIALECT_<NAME>_KEY: what `X-Parley-Key` or `Authorization: Bearer` must carry; null: no key. */
  key: string | null;
  /** PARLEY_DIALECT_<NAME>_ALLOW: the networks a client address must be in; null: any address. */
  allow: AllowedNetwork[] | null;
}

export type DialectGates = Record<GatedDialect, DialectGate | null>;

/** A key shorter than this is refused: a shared key is all that stands between the network and every user. */
export const MIN_GATE_KEY_CHARS = 16;

function allowedNetwork(name: string, entry: string): AllowedNetwork {
  const [address = '', prefixText, ...rest] = entry.split('/');
  const family = isIP(address);
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
  if (family === 0 || rest.length > 0 || prefix < 0 || prefix > max) {
    throw new ConfigError(
      name,
      `must be a comma-separated list of addresses and networks (10.0.0.0/8, 192.168.1.7, fd00::/8), got "${entry}"`,
    );
  }
  return { address, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * PARLEY_DIALECT_AVITO_KEY / _ALLOW, and the same for DRF and INSTABUG: each dialect's gate, or null when neither
 * is set (the dialect stays open, as its original was).
 */
export function dialectGatesConfig(env: Env): DialectGates {
  const gates = {} as DialectGates;
  for (const dialect of GATED_DIALECTS) {
    const keyName = `PARLEY_DIALECT_${dialect.toUpperCase()}_KEY`;
    const allowName = `PARLEY_DIALECT_${dialect.toUpperCase()}_ALLOW`;
    const key = read(env, keyName) ?? null;
    if (key !== null && ([...key].length < MIN_GATE_KEY_CHARS || /\s/.test(key))) {
      throw new ConfigError(keyName, `must be at least ${MIN_GATE_KEY_CHARS} characters, without spaces`);
    }
    const allowText = read(env, allowName);
    const allow =
      allowText === undefined
        ? null
        : allowText
            .split(',')
            .map((entry) => entry.trim())
            .map((entry) => allowedNetwork(allowName, entry));
    gates[dialect] = key === null && allow === null ? null : { key, allow };
  }
  return gates;
}
