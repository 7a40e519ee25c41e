/**
 * SQLSTATEs that mean "the database cannot serve this right now": the server shutting down or restarting (57P01
 * admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now), too many connections (53300), and the
 * connection exceptions (class 08).
 */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);
/**
 * The code of database work refused without trying while the database is known to be unreachable (the circuit of
 * `src/db/health.ts` is open).
 */
export const DATABASE_DOWN = 'EDATABASEDOWN';

/**
 * The network errors of a server that is down or out of reach, or that this process cannot reach right now (out of
 * file descriptors), and the refusal of a known outage.
 */
const UNAVAILABLE_ERRNOS = new Set([
  DATABASE_DOWN,
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  // This process is out of file descriptors (`ulimit -n`): it cannot open another connection until some close.
  'EMFILE',
  'ENFILE',
]);
/** What node-postgres says when a connection drops, cannot be made in time, or was lost before the query. */
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|timeout expired|Client has encountered a connection error|Query read timeout/i;

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 3) {
    return false;
  }
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_ERRNOS.has(code))) {
    return true;
  }
  if (UNAVAILABLE_MESSAGES.test(String((error as { message?: unknown }).message ?? ''))) {
    return true;
  }
  // Connecting to a host with several addresses fails with an AggregateError of one error per address.
  const errors = (error as { errors?: unknown }).errors;
  if (Array.isArray(errors) && errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) {
    return true;
  }
  return isDatabaseUnavailable((error as { cause?: unknown }).cause, depth + 1);
}

/** SQLSTATEs for a string PostgreSQL cannot store as text: a NUL (\u0000) character, or bytes that are not UTF-8. */
const INVALID_TEXT_SQLSTATES = new Set(['22021', '22P05']);

export function isInvalidText(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && INVALID_TEXT_SQLSTATES.has(code);
}

/** The SQLSTATE of a unique violation, and the constraint it names. */
export function uniqueViolation(error: unknown): string | null {
  if (typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505') {
    return String((error as { constraint?: unknown }).constraint ?? '');
  }
  return null;
}

/** Where database outages are reported, to be logged once per outage rather than once per failed request. */
export interface OutageReporter {
  /** Something failed because the database could not be reached. */
  failed(error: unknown): void;
  /** The database answered again. */
  answered(): void;
}
