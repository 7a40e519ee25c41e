import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants } from 'node:fs';
import { connect, createServer } from 'node:net';
import path from 'node:path';

/**
 * Servers a test starts, owns and stops itself (a Redis, a NATS, an HTTP endpoint): always on loopback, always on a
 * port of their own, never the machine's shared ones.
 */

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An executable by name: on PATH, or where Debian's packages put daemons (`/usr/sbin`), or null. */
export function findBinary(name: string, override?: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  const candidates = [override, ...dirs.filter(Boolean).map((dir) => path.join(dir, name))];
  for (const candidate of candidates) {
    if (!candidate) {
      continue;
    }
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not there
    }
  }
  return null;
}

/** Whether something accepts TCP connections on the port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A server process on a fixed loopback port that can be killed (SIGKILL: it goes away without a word, as a crash
 * or a lost host does) and started again on the same port.
 */
export class Daemon {
  private child: ChildProcess | null = null;
  readonly output: string[] = [];

  constructor(
    readonly name: string,
    private readonly binary: string,
    private readonly args: string[],
    readonly port: number,
  ) {}

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts it and resolves once it accepts connections (within `ms`). */
  async start(ms = 10_000): Promise<void> {
    const child = spawn(this.binary, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    const deadline = Date.now() + ms;
    while (!(await accepts(this.port))) {
      if (!this.running) {
        throw new Error(`${this.name} exited at start:\n${this.output.join('')}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`${this.name} did not accept connections within ${ms} ms:\n${this.output.join('')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** SIGKILL, and wait until it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) {
      return;
    }
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
}

/** A Redis of the test's own: no persistence, loopback only. */
export function redisDaemon(binary: string, port: number): Daemon {
  return new Daemon(
    'redis-server',
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--loglevel',
      'warning',
    ],
    port,
  );
}

/** A NATS server of the test's own (core publish/subscribe only), loopback only. */
export function natsDaemon(binary: string, port: number): Daemon {
  return new Daemon('nats-server', binary, ['-a', '127.0.0.1', '-p', String(port)], port);
}
