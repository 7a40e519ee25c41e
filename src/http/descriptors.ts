import { closeSync, openSync } from 'node:fs';
import type { Server } from 'node:net';
import { devNull } from 'node:os';
import type { FastifyBaseLogger } from 'fastify';

/** How often the process checks whether it can still open a file. */
const PROBE_MS = 1000;
/** While it lasts, it is logged again this often. */
const REMIND_MS = 60_000;

const OUT_OF_DESCRIPTORS = new Set(['EMFILE', 'ENFILE']);

function outOfDescriptors(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && OUT_OF_DESCRIPTORS.has(code);
}

/**
 * Running out of file descriptors (`ulimit -n`): every connection, stream, database connection and open file takes
 * one. When none is left, the runtime accepts each new connection and closes it at once (a client sees it reset),
 * and anything else that needs one fails with EMFILE; the process itself lives on, and serves again as soon as
 * connections close. Nothing of that is visible in the log, so the process checks (it opens and closes the null
 * device once a second) and logs when it runs out, once a minute while that lasts, and when it is over: never once
 * per refused connection. An accept error that reaches the server is logged the same way instead of ending the
 * process. Returns the function that stops watching.
 */
export function watchDescriptors(server: Server, log: FastifyBaseLogger): () => void {
  let out: { since: number; loggedAt: number } | null = null;

  const exhausted = (error: unknown) => {
    const now = Date.now();
    if (!out) {
      out = { since: now, loggedAt: now };
      log.error(
        { err: error },
        'out of file descriptors (ulimit -n): new connections are refused until some close',
      );
      return;
    }
    if (now - out.loggedAt >= REMIND_MS) {
      out.loggedAt = now;
      log.error({ err: error, outMs: now - out.since }, 'still out of file descriptors');
    }
  };

  const probe = () => {
    let fd: number;
    try {
      fd = openSync(devNull, 'r');
    } catch (error) {
      if (outOfDescriptors(error)) {
        exhausted(error);
      }
      return;
    }
    closeSync(fd);
    if (out) {
      log.warn({ outMs: Date.now() - out.since }, 'file descriptors available again');
      out = null;
    }
  };

  const onError = (error: unknown) => {
    if (!outOfDescriptors(error)) {
      throw error;
    }
    exhausted(error);
  };
  server.on('error', onError);
  const timer = setInterval(probe, PROBE_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    server.off('error', onError);
  };
}
