import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import pretty from 'pino-pretty';
import type { LogConfig } from './logging.config.ts';

/** What a log line never shows: the caller's token. */
const REDACT = ['req.headers.authorization'];

/**
 * The standalone server's logger. JSON lines on standard output for collectors; in `pretty` format, coloured lines a
 * person can read at a terminal (written synchronously, so nothing is lost when the process exits on an error).
 */
export function createLogger(config: LogConfig): FastifyBaseLogger {
  if (config.format === 'json') {
    return pino({ level: config.level, redact: REDACT });
  }
  const stream = pretty({
    colorize: true,
    sync: true,
    translateTime: 'HH:MM:ss.l',
    ignore: 'pid,hostname,reqId',
    singleLine: true,
  });
  return pino({ level: config.level, redact: REDACT }, stream);
}
