import { randomBytes } from 'node:crypto';
import {
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * One process at a time on an embedded (PGlite) data directory.
 *
 * PGlite is PostgreSQL inside the process: its pages live in that process's memory, and a second process opening the
 * same directory neither sees the first one's writes nor keeps its own from being overwritten. So whoever opens a
 * directory holds its lock file (`<dir>.lock`, beside it) until it closes it, and anyone else is refused at once with
 * who holds it. The file is created atomically (a hard link of a complete file, which fails if the name is taken)
 * and records the holder: process id, host, start time, command, and the address it serves the API on once it
 * listens (`advertise`), so that the command line can use the running server instead (`parley seed`).
 *
 * A holder that died without closing (SIGKILL, power cut) leaves its file behind; the next process sees that the
 * recorded process is gone and takes the lock over. "Gone" is checked with signal 0 and, on Linux, against the
 * process's start time and the kernel's boot id, so a process id reused since does not pass for the holder. A
 * holder on another host (another container on the same volume) cannot be checked that way: it touches its file
 * every HEARTBEAT_MS, and counts as gone once the file is older than ABANDONED_AFTER_MS. Taking a dead holder's lock
 * over is serialised by a second, short-lived lock (`<dir>.lock.break`), so two processes starting at once over the
 * same leftover cannot both win.
 */

export interface LockHolder {
  pid: number;
  hostname: string;
  /** Linux: the kernel's boot id, which changes with every boot; null elsewhere. */
  bootId: string | null;
  /** Linux: the process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat); null elsewhere. */
  processStart: string | null;
  /** When it took the lock, ISO 8601. */
  since: string;
  /** What it runs, as far as it knows: `parley serve`, or the command line of a host application. */
  command: string;
  /** Where it serves Parley's API, once it listens; null before, and for processes that do not serve. */
  url: string | null;
  /** Tells this lock from another one taken by a process with the same id. */
  nonce: string;
}

export interface DataDirLock {
  readonly file: string;
  readonly holder: LockHolder;
  /** A dead holder's lock this one took over, if any: for the log. */
  readonly recovered: LockHolder | null;
  /** Records where this process serves the API, for other commands on the same directory to find it. */
  advertise(url: string): void;
  /** Gives the directory up. Idempotent; also done when the process exits without closing. */
  release(): void;
}

/** Someone else has the directory open. The message names the holder and what to do. */
export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly file: string,
    readonly holder: LockHolder,
    readonly sameProcess: boolean,
  ) {
    super(
      sameProcess
        ? `the embedded database at ${dataDir} is already open in this process; close it before opening it again`
        : `the embedded database at ${dataDir} is in use by another process: ${describeHolder(holder)}. ` +
            "Two processes on one PGlite data directory do not see each other's writes and lose data, so this one " +
            `stops. Stop that process first (Ctrl-C in its terminal, or kill ${holder.pid}), work through its ` +
            'API, or give this one another PARLEY_DATA_DIR. (To run several servers on one database, use ' +
            `PostgreSQL.) Lock file: ${file}`,
    );
    this.name = 'DataDirInUseError';
  }
}

const HEARTBEAT_MS = 10_000;
const ABANDONED_AFTER_MS = 60_000;
/** A `.break` file older than this was left by a process that died while taking over a lock. */
const BREAK_STALE_MS = 10_000;
/** A lock file that cannot be parsed may be one being written by other means (no hard links): wait this long. */
const UNREADABLE_GRACE_MS = 2_000;

/** The locks this process holds, by nonce: opening a directory twice in one process is refused too. */
const held = new Set<string>();

function readOptional(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

const BOOT_ID = readOptional('/proc/sys/kernel/random/boot_id');

/** Linux: when a process started, in clock ticks since boot; null where /proc cannot say. */
export function processStart(pid: number): string | null {
  const stat = readOptional(`/proc/${pid}/stat`);
  if (stat === null) {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'. Field 3 is the state.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
}

/** `parley serve` for the command line; the command line itself for anything else (a host application, a test). */
function describeCommand(): string {
  const [node = 'node', script = '', ...args] = process.argv;
  if (/(^|[\\/])(cli\.[jt]s|parley(\.js)?)$/.test(script)) {
    return ['parley', ...(args.length > 0 ? args : ['serve'])].join(' ');
  }
  return [path.basename(node), script, ...args].join(' ').slice(0, 300);
}

function ago(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) {
    return `${seconds} s ago`;
  }
  const minutes = Math.round(seconds / 60);
  return minutes < 120 ? `${minutes} min ago` : `${Math.round(minutes / 60)} h ago`;
}

export function describeHolder(holder: LockHolder): string {
  const where = holder.hostname === os.hostname() ? '' : ` on host ${holder.hostname}`;
  const serving = holder.url ? `, serving ${holder.url}` : '';
  const since = Date.parse(holder.since);
  const when = Number.isNaN(since) ? holder.since : `${holder.since} (${ago(Date.now() - since)})`;
  return `pid ${holder.pid}${where} (${holder.command})${serving}, since ${when}`;
}

function parseHolder(text: string): LockHolder | null {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (
      typeof value.pid !== 'number' ||
      !Number.isInteger(value.pid) ||
      value.pid <= 0 ||
      typeof value.hostname !== 'string' ||
      typeof value.nonce !== 'string'
    ) {
      return null;
    }
    return {
      pid: value.pid,
      hostname: value.hostname,
      bootId: typeof value.bootId === 'string' ? value.bootId : null,
      processStart: typeof value.processStart === 'string' ? value.processStart : null,
      since: typeof value.since === 'string' ? value.since : 'an unknown time',
      command: typeof value.command === 'string' ? value.command : 'unknown command',
      url: typeof value.url === 'string' ? value.url : null,
      nonce: value.nonce,
    };
  } catch {
    return null;
  }
}

interface Found {
  text: string;
  holder: LockHolder | null;
  /** When the file was last written or touched (the heartbeat). */
  mtimeMs: number;
}

function readLock(file: string): Found | null {
  try {
    const { mtimeMs } = statSync(file);
    const text = readFileSync(file, 'utf8');
    return { text, holder: parseHolder(text), mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return null;
    }
    throw error;
  }
}

/** The holder recorded in a lock file, if it is still running; null when there is none or it is gone. */
export function liveHolder(file: string): LockHolder | null {
  const found = readLock(file);
  return found?.holder && isAlive(found.holder, found.mtimeMs) ? found.holder : null;
}

function isAlive(holder: LockHolder, mtimeMs: number): boolean {
  if (held.has(holder.nonce)) {
    return true;
  }
  if (holder.hostname !== os.hostname()) {
    // Another host's process ids mean nothing here; its heartbeat does.
    return Date.now() - mtimeMs < ABANDONED_AFTER_MS;
  }
  if (holder.bootId && BOOT_ID && holder.bootId !== BOOT_ID) {
    return false;
  }
  if (holder.pid === process.pid) {
    // Not one of ours (those are in `held`): an earlier process that had this id, as pid 1 of a restarted container.
    return false;
  }
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') {
      return false;
    }
  }
  const started = holder.processStart ? processStart(holder.pid) : null;
  return started === null || started === holder.processStart;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Creates `file` with `text` in one step, or returns false if it exists. */
function create(file: string, text: string, nonce: string): boolean {
  const temporary = `${file}.${process.pid}.${nonce}.tmp`;
  writeFileSync(temporary, text, { mode: 0o644 });
  try {
    linkSync(temporary, file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      return false;
    }
    // A file system without hard links: exclusive creation, which is atomic too (a reader may see it empty for a
    // moment, and waits: UNREADABLE_GRACE_MS).
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
      try {
        writeFileSync(file, text, { flag: 'wx', mode: 0o644 });
        return true;
      } catch (fallback) {
        if ((fallback as NodeJS.ErrnoException).code === 'EEXIST') {
          return false;
        }
        throw fallback;
      }
    }
    throw error;
  } finally {
    unlinkSync(temporary);
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

/**
 * Removes the lock file a dead holder left, if it still holds exactly what was seen: under `<file>.break`, so that of
 * two processes taking over the same leftover, the second finds the first one's fresh lock instead and backs off.
 */
async function breakStale(file: string, seen: Found): Promise<void> {
  const breaker = `${file}.break`;
  try {
    writeFileSync(breaker, String(process.pid), { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw error;
    }
    const age = readLock(breaker);
    if (age && Date.now() - age.mtimeMs > BREAK_STALE_MS) {
      unlinkQuietly(breaker);
    } else {
      await sleep(20 + Math.random() * 30);
    }
    return;
  }
  try {
    const now = readLock(file);
    if (now && now.text === seen.text) {
      unlinkSync(file);
    }
  } finally {
    unlinkSync(breaker);
  }
}

/**
 * Takes the lock of the embedded data directory `dataDir` (its file is `<dataDir>.lock`), or throws
 * DataDirInUseError naming whoever has it.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const file = `${dataDir}.lock`;
  mkdirSync(path.dirname(file), { recursive: true });
  const nonce = randomBytes(8).toString('hex');
  const holder: LockHolder = {
    pid: process.pid,
    hostname: os.hostname(),
    bootId: BOOT_ID,
    processStart: processStart(process.pid),
    since: new Date().toISOString(),
    command: describeCommand(),
    url: null,
    nonce,
  };
  let recovered: LockHolder | null = null;
  const deadline = Date.now() + 10_000;
  while (!create(file, JSON.stringify(holder), nonce)) {
    if (Date.now() > deadline) {
      throw new Error(`could not take the lock ${file} within 10 s: it keeps changing hands`);
    }
    const found = readLock(file);
    if (found === null) {
      continue;
    }
    if (found.holder === null) {
      if (Date.now() - found.mtimeMs < UNREADABLE_GRACE_MS) {
        await sleep(50);
        continue;
      }
    } else if (isAlive(found.holder, found.mtimeMs)) {
      throw new DataDirInUseError(dataDir, file, found.holder, held.has(found.holder.nonce));
    }
    recovered = found.holder;
    await breakStale(file, found);
  }
  held.add(nonce);
  return new HeldLock(file, holder, recovered);
}

class HeldLock implements DataDirLock {
  private released = false;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly onExit = () => this.release();

  constructor(
    readonly file: string,
    readonly holder: LockHolder,
    readonly recovered: LockHolder | null,
  ) {
    this.heartbeat = setInterval(() => {
      try {
        const now = new Date();
        utimesSync(file, now, now);
      } catch {
        // Gone or unreachable: nothing to keep fresh.
      }
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
    process.on('exit', this.onExit);
  }

  advertise(url: string): void {
    if (this.released) {
      return;
    }
    this.holder.url = url;
    // Replaced in one step: a reader sees the old record or the new one, never half of one.
    const temporary = `${this.file}.${process.pid}.${this.holder.nonce}.tmp`;
    writeFileSync(temporary, JSON.stringify(this.holder), { mode: 0o644 });
    renameSync(temporary, this.file);
  }

  release(): void {
    if (this.released) {
      return;
    }
    this.released = true;
    clearInterval(this.heartbeat);
    process.off('exit', this.onExit);
    held.delete(this.holder.nonce);
    const found = readLock(this.file);
    // Only our own: never another process's lock, whatever happened to ours.
    if (found?.holder?.nonce === this.holder.nonce) {
      unlinkQuietly(this.file);
    }
  }
}
