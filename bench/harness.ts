import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { mintToken } from '../src/auth/token.ts';
import { loadConfig, type Config } from '../src/config.ts';
import { startServer, type ServerProcess } from '../test/support/server.ts';

export const SECRET = randomBytes(32).toString('base64url');
export const ISSUER = 'parley-bench';

/** A Parley server process of its own, on PostgreSQL (DATABASE_URL, in a throwaway schema) or a temporary PGlite. */
export interface BenchServer {
  server: ServerProcess;
  config: Config;
  engine: string;
  token(sub: string): Promise<string>;
  rssMiB(): number;
  /**
   * Gives the planner statistics of the data the fixture wrote, as autovacuum would in a running deployment (the
   * embedded database analyzes itself on a timer and is left alone).
   */
  analyze(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchServer(env: Record<string, string> = {}): Promise<BenchServer> {
  const databaseUrl = process.env.DATABASE_URL;
  const schema = `parley_bench_${randomBytes(4).toString('hex')}`;
  const dataDir = databaseUrl ? null : mkdtempSync(path.join(os.tmpdir(), 'parley-bench-'));
  const serverEnv: Record<string, string> = {
    NODE_ENV: 'production',
    JWT_SECRET: SECRET,
    JWT_ISSUER: ISSUER,
    // The bench measures throughput: thousands of requests a second from one user and one address, far over the
    // rate limits a deployment runs with (README, "Limits").
    PARLEY_RATE_LIMIT_USER: '0',
    PARLEY_RATE_LIMIT_IP: '0',
    ...(databaseUrl
      ? { DATABASE_URL: databaseUrl, DB_SCHEMA: schema }
      : { PARLEY_DATA_DIR: dataDir!, DATABASE_URL: '' }),
    ...env,
  };
  // BENCH_CPU_PROF=<dir>: the server writes a CPU profile there when it stops (open it in Chrome's DevTools).
  const profileDir = process.env.BENCH_CPU_PROF;
  const server = await startServer(
    serverEnv,
    profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  );
  const config = loadConfig(serverEnv);
  return {
    server,
    config,
    engine: databaseUrl ? 'PostgreSQL' : 'PGlite',
    token: (sub) => mintToken(config.jwt, { sub, ttlSeconds: 3600 }),
    rssMiB: () => rssMiB(server.child.pid!),
    async analyze() {
      if (!databaseUrl) {
        return;
      }
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        await client.query(`set search_path = "${schema}"`);
        await client.query('analyze');
      } finally {
        await client.end();
      }
    },
    async stop() {
      await server.stop();
      if (databaseUrl) {
        const client = new pg.Client({ connectionString: databaseUrl });
        await client.connect();
        await client.query(`drop schema if exists "${schema}" cascade`);
        await client.end();
      }
      if (dataDir) {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round((kb / 1024) * 10) / 10;
}

/** CPU seconds (user + system) a process has used so far, from /proc, in clock ticks of 10 ms. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces: fields are counted from the state (field 3); utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

export async function api(base: string, token: string, method: string, url: string, body?: unknown) {
  const response = await fetch(`${base}${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  if (response.status >= 400) {
    throw new Error(`${method} ${url}: ${response.status} ${text}`);
  }
  return text ? (JSON.parse(text) as any) : null;
}

/** Runs `task` over `items` with at most `limit` in flight. */
export async function pool<T>(items: T[], limit: number, task: (item: T, index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await task(items[index]!, index);
      }
    }),
  );
}

export function machine(): string {
  return `${os.availableParallelism()} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function table(rows: Record<string, string | number>[]): void {
  const columns = Object.keys(rows[0] ?? {});
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(columns));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) {
    console.log(line(columns.map((c) => String(row[c]))));
  }
}

/** The local ports of `pid`'s TCP connections to `remotePort` (its database connections), from /proc. */
/** `pid` and every process below it (a server's workers: `parley serve --workers N`). */
export function processTree(pid: number): number[] {
  const found = [pid];
  for (let i = 0; i < found.length; i++) {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${found[i]}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      try {
        const children = readFileSync(`/proc/${found[i]}/task/${task}/children`, 'utf8').trim();
        found.push(...(children ? children.split(' ').map(Number) : []));
      } catch {
        // gone meanwhile
      }
    }
  }
  return found;
}

/** CPU seconds spent so far by `pid` and the processes below it that are running now. */
export function treeCpuSeconds(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      total += cpuSeconds(p);
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

function portsTo(pid: number, remotePort: number): number[] {
  const inodes = new Set<string>();
  for (const p of processTree(pid)) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${p}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${p}/fd/${fd}`));
        if (match) {
          inodes.add(match[1]!);
        }
      } catch {
        // closed meanwhile
      }
    }
  }
  const ports: number[] = [];
  for (const file of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cells = line.trim().split(/\s+/);
      const [local, remote, inode] = [cells[1], cells[2], cells[9]];
      if (
        local &&
        remote &&
        inode &&
        inodes.has(inode) &&
        parseInt(remote.split(':')[1]!, 16) === remotePort
      ) {
        ports.push(parseInt(local.split(':')[1]!, 16));
      }
    }
  }
  return ports;
}

/**
 * The CPU a server spends, its database's included: the Parley process (or another server's, `processCpuMeter`),
 * plus, on PostgreSQL, the backends serving its connections (found by their client ports in pg_stat_activity, so that other clients of the same server do not
 * count). Call `backends()` after a warm-up, when the pool is open; `start()` returns a function that reads the
 * CPU seconds spent since, by the Parley process and by the backends (a backend that exits meanwhile counts up to
 * its last reading).
 */
export interface CpuMeter {
  backends(): Promise<number>;
  start(): () => { server: number; database: number };
}

export function cpuMeter(bench: BenchServer): CpuMeter {
  return processCpuMeter(bench.server.child.pid!);
}

/** `cpuMeter` of any server process on this machine (another service's, measured the same way). */
export function processCpuMeter(pid: number): CpuMeter {
  const databaseUrl = process.env.DATABASE_URL;
  let pids: number[] = [];
  const read = (p: number) => {
    try {
      return cpuSeconds(p);
    } catch {
      return null;
    }
  };
  return {
    async backends() {
      if (!databaseUrl) {
        return 0;
      }
      const port = Number(new URL(databaseUrl).port || 5432);
      const ports = portsTo(pid, port);
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ pid: number }>(
          'select pid from pg_stat_activity where client_port = any($1::int[])',
          [ports],
        );
        pids = rows.map((r) => r.pid);
      } finally {
        await client.end();
      }
      return pids.length;
    },
    start() {
      const server = treeCpuSeconds(pid);
      const before = new Map(pids.map((p) => [p, read(p) ?? 0]));
      return () => {
        let database = 0;
        for (const [p, then] of before) {
          database += (read(p) ?? then) - then;
        }
        return { server: treeCpuSeconds(pid) - server, database };
      };
    },
  };
}
