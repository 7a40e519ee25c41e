import type { DatabaseConfig } from '../db/db.config.ts';
import { read, type Env } from '../env.ts';

/**
 * What a command line user needs to hear when the database cannot be reached or refuses: the setting the target came
 * from, the target itself (never its password), and what to do. Null for an error that is not about that.
 */
export function explainDatabaseError(error: unknown, config: DatabaseConfig, env: Env): string | null {
  if (config.kind !== 'postgres') {
    return null;
  }
  const cause = rootCause(error);
  if (!cause) {
    return null;
  }
  const setting =
    read(env, 'DATABASE_URL') !== undefined ? 'DATABASE_URL' : 'DB_HOST, DB_PORT, DB_USER and DB_DATABASE';
  const url = new URL(config.connectionString);
  const target = `${url.hostname}:${url.port || '5432'}`;
  const database =
    decodeURIComponent(url.pathname.slice(1)) || decodeURIComponent(url.username) || 'postgres';
  const user = decodeURIComponent(url.username) || 'the current user';
  switch (cause.code) {
    case 'ECONNREFUSED':
      return (
        `cannot connect to PostgreSQL at ${target} (from ${setting}): nothing accepts connections there. ` +
        'Is the server running, and is that its address and port?'
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot connect to PostgreSQL at ${target} (from ${setting}): the host "${url.hostname}" is not known.`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'CONNECT_TIMEOUT':
      return (
        `cannot connect to PostgreSQL at ${target} (from ${setting}): no answer within DB_CONNECT_TIMEOUT_MS. ` +
        'Is the address right, and does a firewall let the connection through?'
      );
    case '3D000':
      return (
        `the database "${database}" on ${target} (from ${setting}) does not exist. Parley creates its tables, not ` +
        `the database: create it once (createdb -h ${url.hostname} -p ${url.port || '5432'} -U ${user} ${database}).`
      );
    case '28P01':
    case '28000':
      return `PostgreSQL at ${target} (from ${setting}) refused the login of ${user}: ${cause.message}`;
    default:
      return null;
  }
}

interface Coded {
  code: string;
  message: string;
}

/** The first error with a code along the `cause` chain (and inside an AggregateError, as a refused dual-stack connect). */
function rootCause(error: unknown): Coded | null {
  for (let current = error, depth = 0; current instanceof Error && depth < 10; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') {
      return { code, message: current.message };
    }
    if (
      current.message.includes('timeout expired') ||
      current.message.includes('due to connection timeout')
    ) {
      return { code: 'CONNECT_TIMEOUT', message: current.message };
    }
    if (current instanceof AggregateError && current.errors.length > 0) {
      return rootCause(current.errors[0]);
    }
    current = current.cause;
  }
  return null;
}
