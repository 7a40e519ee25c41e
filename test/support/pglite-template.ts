import { createHash } from 'node:crypto';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { unaccent } from '@electric-sql/pglite/contrib/unaccent';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from '../../src/db/migrate.ts';

/**
 * An in-memory PGlite test app does not start from an empty cluster and migrate it (about 2.5 s of CPU each): it
 * loads a dump of a cluster migrated once (about 0.5 s). The dump is made the first time a test process asks for
 * it and kept in the temporary directory under a name derived from everything that shapes it (the migrations, the
 * code that runs them and opens PGlite, PGlite's version), so changing any of them makes a new one; test processes
 * running at once make it once, the others wait for it. Server processes of the suites that start them on a
 * PGlite directory get a copy of the same cluster on disk (`copyMigratedCluster`).
 */

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SOURCES = ['src/db/migrate.ts', 'src/db/connect.ts', 'test/support/pglite-template.ts'];

function templateKey(): string {
  const hash = createHash('sha256');
  const migrations = path.join(ROOT, 'src/db/migrations');
  const files = [
    ...SOURCES.map((file) => path.join(ROOT, file)),
    ...readdirSync(migrations)
      .sort()
      .map((file) => path.join(migrations, file)),
    path.join(ROOT, 'node_modules/@electric-sql/pglite/package.json'),
  ];
  for (const file of files) {
    hash.update(path.relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/** Migrates a fresh cluster, opened as `src/db/connect.ts` opens one (the same extensions), and dumps it. */
async function makeTemplate(): Promise<Blob> {
  const pglite = await PGlite.create('memory://', { extensions: { pg_trgm, unaccent } });
  const db = new Kysely({
    dialect: new PostgresDialect({
      pool: new pg.Pool({ ...createPgConfig(pglite), max: 1 } as pg.PoolConfig),
    }),
  });
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  const dump = await pglite.dumpDataDir('none');
  await pglite.close();
  return dump;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `target` in the temporary directory, made by `make(partial)` into a path of this process's and renamed into
 * place, by one process at a time: the others wait on a lock file (left by a process that died, it expires).
 */
async function once(target: string, make: (partial: string) => Promise<void>): Promise<string> {
  const lock = `${target}.lock`;
  for (;;) {
    if (existsSync(target)) {
      return target;
    }
    let fd: number | null = null;
    try {
      fd = openSync(lock, 'wx');
    } catch {
      if (Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 60_000) {
        rmSync(lock, { force: true });
      }
      await sleep(100);
      continue;
    }
    try {
      const partial = `${target}.${process.pid}`;
      rmSync(partial, { recursive: true, force: true });
      await make(partial);
      renameSync(partial, target);
      return target;
    } finally {
      closeSync(fd);
      rmSync(lock, { force: true });
    }
  }
}

const NAME = path.join(tmpdir(), `parley-pglite-template-${templateKey()}`);

let template: Promise<Blob> | null = null;

/** The migrated cluster's dump, for `loadDataDir`; made or read once per process. */
export function pgliteTemplate(): Promise<Blob> {
  template ??= once(`${NAME}.tar`, async (partial) => {
    let dump: Blob;
    try {
      dump = await makeTemplate();
    } catch (error) {
      // Seen once in a full parallel run and never reproduced since (hundreds of runs alone and side by side): the
      // migrations of a fresh in-memory cluster failed with an error no migration owned. Said in full, then tried
      // again on another fresh cluster; a second failure is real and fails the suite.
      console.error('making the migrated PGlite template failed; trying once more:', error);
      dump = await makeTemplate();
    }
    await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
  }).then((file) => new Blob([readFileSync(file)]));
  return template;
}

let directory: Promise<string> | null = null;

/**
 * Fills `dataDir` (what PARLEY_DATA_DIR names) with a copy of the migrated cluster, in `pglite/` as the server lays
 * it out: a server process started on it opens it instead of creating and migrating one (about 5 s on PGlite).
 */
export async function copyMigratedCluster(dataDir: string): Promise<void> {
  directory ??= once(`${NAME}.d`, async (partial) => {
    mkdirSync(path.join(partial, 'pglite'), { recursive: true });
    const pglite = await PGlite.create(path.join(partial, 'pglite'), {
      extensions: { pg_trgm, unaccent },
      loadDataDir: await pgliteTemplate(),
    });
    await pglite.close();
  });
  cpSync(await directory, dataDir, { recursive: true });
}
