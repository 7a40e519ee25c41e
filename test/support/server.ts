import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { BodyOf } from './api.ts';
import { TEST_DATABASE_URL, TEST_ISSUER, TEST_SECRET } from './app.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** One line of the server's JSON log (pino): `level` 30 info, 40 warn, 50 error, 60 fatal. */
export interface LogEntry {
  level: number;
  time: number;
  msg?: string;
  [key: string]: unknown;
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Every JSON log line the process has written so far, parsed. */
  logs: LogEntry[];
  /** Everything the process has written so far (stdout lines and stderr chunks). */
  output: string[];
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: no goodbye. */
  kill(): Promise<void>;
}

export interface StartOptions {
  /** The process's limit of open files (`ulimit -n`), set by the shell that starts it. */
  openFiles?: number;
  /** Another copy of Parley (a package unpacked from its tarball): `bin/parley.js serve` there, not this tree's source. */
  packageDir?: string;
  /** Options after `serve` (`--workers 2`). */
  args?: string[];
}

/**
 * Starts `parley serve` as a separate OS process on a free port, with `env` on top of the test's environment;
 * `nodeArgs` go to Node before the script (`--cpu-prof`, which NODE_OPTIONS may not carry).
 */
export async function startServer(
  env: Record<string, string>,
  nodeArgs: string[] = [],
  options: StartOptions = {},
): Promise<ServerProcess> {
  const argv = options.packageDir
    ? [...nodeArgs, 'bin/parley.js', 'serve', ...(options.args ?? [])]
    : [...nodeArgs, '--import', 'tsx', 'src/cli.ts', 'serve', ...(options.args ?? [])];
  const [command, args] =
    options.openFiles === undefined
      ? [process.execPath, argv]
      : ['bash', ['-c', `ulimit -n ${options.openFiles} && exec "$0" "$@"`, process.execPath, ...argv]];
  const child = spawn(command, args, {
    cwd: options.packageDir ?? ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const logs: LogEntry[] = [];
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left running behind the error: a server still starting would hold its port, memory and database.
      child.kill('SIGKILL');
      reject(new Error(`server did not start:\n${output.join('')}`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output.join('')}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      try {
        const entry = JSON.parse(line) as LogEntry & { port?: number };
        logs.push(entry);
        if (entry.port && entry.msg?.startsWith('Parley is listening')) {
          clearTimeout(timer);
          resolve(entry.port);
        }
      } catch {
        // not a log line
      }
    });
  });
  const exited = once(child, 'exit');
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    logs,
    output,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
    async kill() {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** The environment of a server process of the test deployment in `schema` on the test PostgreSQL. */
export function clusterEnv(schema: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    JWT_SECRET: TEST_SECRET,
    JWT_ISSUER: TEST_ISSUER,
    DATABASE_URL: TEST_DATABASE_URL ?? '',
    DB_SCHEMA: schema,
    ...extra,
  };
}

/** One HTTP call to a server process, as `token`'s user; the body is parsed JSON, typed from the route (`api.ts`). */
export async function call<M extends string, U extends string>(
  server: ServerProcess,
  token: string,
  method: M,
  path: U,
  body?: unknown,
): Promise<{ status: number; body: BodyOf<M, U> }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  // What the route answers on success; a test reads refusals with `assertError`.
  return { status: response.status, body: (await response.json()) as BodyOf<M, U> };
}
