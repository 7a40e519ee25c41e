import { oneOf, type Env } from '../env.ts';

export type LogFormat = 'json' | 'pretty';

export interface LogConfig {
  /** LOG_LEVEL: `fatal` … `trace`, or `silent`. */
  level: string;
  /**
   * PARLEY_LOG_FORMAT: `json` (one object a line, for log collectors) or `pretty` (coloured lines for a person at a
   * terminal, with a line per request). Default: pretty when standard output is a terminal outside production.
   */
  format: LogFormat;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function logConfig(env: Env, nodeEnv: string, isTerminal: boolean): LogConfig {
  const level = oneOf(env, 'LOG_LEVEL', LEVELS, nodeEnv === 'test' ? 'warn' : 'info');
  const fallback: LogFormat = isTerminal && nodeEnv !== 'production' ? 'pretty' : 'json';
  const format = oneOf(env, 'PARLEY_LOG_FORMAT', ['json', 'pretty'] as const, fallback);
  return { level, format };
}
