import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import {
  DataDirInUseError,
  liveHolder,
  lockDataDir,
  processStart,
  type LockHolder,
} from '../src/db/datadir-lock.ts';

/** The lock of an embedded data directory, against real processes: live ones, dead ones, reused ids, racers. */

const ROOT = path.resolve(import.meta.dirname, '..');
const TAKER = path.join(ROOT, 'test', 'support', 'lock-taker.ts');
const LINUX = process.platform === 'linux';

const base = mkdtempSync(path.join(os.tmpdir(), 'parley-lock-'));
after(() => rmSync(base, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => path.join(base, `d${++dirs}`, 'pglite');

/** Starts lock-taker.ts; resolves its first line of output once it has tried. */
/** What lock-taker.ts prints: whether it got the lock (and whose stale lock it recovered), or the error. */
interface TakerAnswer {
  got: boolean;
  recovered?: number | null;
  error?: string;
}

function taker(
  dataDir: string,
  startAt = 0,
  holdMs = 0,
): { child: ChildProcess; answer: Promise<TakerAnswer> } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', TAKER, dataDir, String(startAt), String(holdMs)],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const answer = new Promise<TakerAnswer>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('lock-taker did not answer in 60 s')), 60_000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line));
    });
  });
  return { child, answer };
}

/** The id of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

function leftover(dataDir: string, holder: Partial<LockHolder>): void {
  const record: LockHolder = {
    pid: 1,
    hostname: os.hostname(),
    bootId: null,
    processStart: null,
    since: new Date(Date.now() - 3_600_000).toISOString(),
    command: 'parley serve',
    url: null,
    nonce: 'leftover',
    ...holder,
  };
  writeFileSync(`${dataDir}.lock`, JSON.stringify(record));
}

/** lockDataDir makes the directory; a leftover lock needs it first. */
function ensureParent(dataDir: string): void {
  mkdirSync(path.dirname(dataDir), { recursive: true });
}

describe('data directory lock', () => {
  it('refuses a directory another process holds, naming it; takes it over once that process is killed', async () => {
    const dataDir = freshDir();
    const holder = taker(dataDir, 0, 60_000);
    try {
      assert.deepEqual(await holder.answer, { got: true, recovered: null });
      await assert.rejects(lockDataDir(dataDir), (error: unknown) => {
        assert.ok(error instanceof DataDirInUseError);
        assert.equal(error.holder.pid, holder.child.pid);
        assert.equal(error.sameProcess, false);
        assert.match(error.message, new RegExp(`in use by another process: pid ${holder.child.pid} \\(`));
        assert.match(error.message, /Stop that process first/);
        return true;
      });
    } finally {
      holder.child.kill('SIGKILL');
      await once(holder.child, 'exit');
    }
    const lock = await lockDataDir(dataDir);
    assert.equal(lock.recovered?.pid, holder.child.pid);
    lock.release();
    assert.equal(existsSync(`${dataDir}.lock`), false);
  });

  it('refuses the same directory twice in one process, and lets it go on release', async () => {
    const dataDir = freshDir();
    const lock = await lockDataDir(dataDir);
    await assert.rejects(lockDataDir(dataDir), (error: unknown) => {
      assert.ok(error instanceof DataDirInUseError);
      assert.equal(error.sameProcess, true);
      return true;
    });
    lock.release();
    (await lockDataDir(dataDir)).release();
  });

  it(
    'a reused process id does not pass for the holder: the start time tells them apart',
    { skip: !LINUX },
    async () => {
      const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
      try {
        const pid = sleeper.pid!;
        const started = processStart(pid);
        assert.ok(started);
        const dataDir = freshDir();
        ensureParent(dataDir);
        // The live process with the recorded id and start time is the holder.
        leftover(dataDir, { pid, processStart: started });
        await assert.rejects(lockDataDir(dataDir), DataDirInUseError);
        // The same id, started at another time: the holder is gone, and this process has its id now.
        leftover(dataDir, { pid, processStart: String(Number(started) - 1) });
        const lock = await lockDataDir(dataDir);
        assert.equal(lock.recovered?.pid, pid);
        lock.release();
      } finally {
        sleeper.kill('SIGKILL');
      }
    },
  );

  it("takes over a lock recorded under this process's own id (pid 1 of a restarted container)", async () => {
    const dataDir = freshDir();
    ensureParent(dataDir);
    leftover(dataDir, { pid: process.pid, processStart: processStart(process.pid) });
    const lock = await lockDataDir(dataDir);
    assert.equal(lock.recovered?.pid, process.pid);
    assert.notEqual(lock.holder.nonce, 'leftover');
    lock.release();
  });

  it('another host: refused while its holder keeps the file fresh, taken over once abandoned', async () => {
    const dataDir = freshDir();
    ensureParent(dataDir);
    leftover(dataDir, { pid: process.pid + 1, hostname: 'elsewhere' });
    await assert.rejects(lockDataDir(dataDir), (error: unknown) => {
      assert.ok(error instanceof DataDirInUseError);
      assert.match(error.message, /pid \d+ on host elsewhere/);
      return true;
    });
    const old = new Date(Date.now() - 120_000);
    utimesSync(`${dataDir}.lock`, old, old);
    const lock = await lockDataDir(dataDir);
    assert.equal(lock.recovered?.hostname, 'elsewhere');
    lock.release();
  });

  it('a lock file that is not a record, and old, is a leftover', async () => {
    const dataDir = freshDir();
    ensureParent(dataDir);
    writeFileSync(`${dataDir}.lock`, 'garbage');
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${dataDir}.lock`, old, old);
    const lock = await lockDataDir(dataDir);
    assert.equal(JSON.parse(readFileSync(`${dataDir}.lock`, 'utf8')).nonce, lock.holder.nonce);
    lock.release();
  });

  it("of several processes starting at once over a dead holder's lock, exactly one gets it", async () => {
    const dataDir = freshDir();
    ensureParent(dataDir);
    const dead = await deadPid();
    leftover(dataDir, { pid: dead });
    // Each waits for the same moment, far enough ahead for all of them to have loaded; the winner holds on long
    // enough for a latecomer to find it still there.
    const startAt = Date.now() + 8_000;
    const takers = Array.from({ length: 4 }, () => taker(dataDir, startAt, 60_000));
    try {
      const answers = await Promise.all(takers.map((t) => t.answer));
      const winners = answers.filter((a) => a.got);
      assert.equal(winners.length, 1, JSON.stringify(answers));
      // The winner is the one that removed the leftover, or one that found it already removed by a loser (whose own
      // attempt then met the winner's fresh lock): only the first knows whose lock it was.
      assert.ok([dead, null].includes(winners[0]!.recovered ?? null), JSON.stringify(answers));
      const winner = takers[answers.indexOf(winners[0]!)]!.child.pid!;
      assert.equal(liveHolder(`${dataDir}.lock`)?.pid, winner);
      for (const loser of answers.filter((a) => !a.got)) {
        assert.match(loser.error ?? '', new RegExp(`in use by another process: pid ${winner} \\(`));
      }
    } finally {
      for (const t of takers) {
        t.child.kill('SIGKILL');
      }
      await Promise.all(takers.map((t) => (t.child.exitCode === null ? once(t.child, 'exit') : null)));
    }
  });
});
