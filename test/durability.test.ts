import assert from 'node:assert/strict';
import fs, { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Fastify from 'fastify';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.ts';
import { mintToken, parley, type Store } from '../src/index.ts';
import { clientFor, TEST_ISSUER, TEST_SECRET } from './support/app.ts';

/**
 * Durable commits on the embedded database (PARLEY_DURABLE): an answered send's commit is on the disk before the
 * answer leaves. Observed from outside Parley: every fsync and fdatasync this process makes is recorded with the file
 * it names (from /proc/self/fd) once it has returned, between the request's arrival and its answer as the host
 * application sees them.
 */

const events: string[] = [];
let recording = false;
const originals = {
  fsyncSync: fs.fsyncSync,
  fdatasyncSync: fs.fdatasyncSync,
  fsync: fs.fsync,
  fdatasync: fs.fdatasync,
};
const fileOf = (fd: number) => readlinkSync(`/proc/self/fd/${fd}`);
/** A sync counts once it has returned without an error: the file is on the disk from then on. */
const synced = (file: string) => {
  if (recording) {
    events.push(`sync ${file}`);
  }
};
for (const name of ['fsyncSync', 'fdatasyncSync'] as const) {
  const real = originals[name];
  fs[name] = (fd) => {
    const file = fileOf(fd);
    real(fd);
    synced(file);
  };
}
for (const name of ['fsync', 'fdatasync'] as const) {
  const real = originals[name];
  // Slower than a disk, so that an answer that did not wait for its sync would certainly leave first.
  const observed = (fd: number, callback: fs.NoParamCallback) => {
    const file = fileOf(fd);
    setTimeout(() => {
      real(fd, (error) => {
        if (!error) {
          synced(file);
        }
        callback(error);
      });
    }, 50);
  };
  Object.assign(fs, { [name]: observed });
}
// Modules that import the functions by name see the observed ones too.
syncBuiltinESMExports();
after(() => {
  Object.assign(fs, originals);
  syncBuiltinESMExports();
});

const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Parley mounted in a host app that records each request's arrival and answer beside the syncs. */
async function host(env: Record<string, string>) {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-durable-'));
  dirs.push(dir);
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    JWT_SECRET: TEST_SECRET,
    JWT_ISSUER: TEST_ISSUER,
    PARLEY_DATA_DIR: dir,
    ...env,
  });
  // Opening and migrating a new directory can take longer than Fastify's default 10 s on a busy machine.
  const app = Fastify({ pluginTimeout: 120_000 });
  app.addHook('onRequest', async (request) => {
    if (recording) {
      events.push(`request ${request.method}`);
    }
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (recording) {
      events.push(`answer ${reply.statusCode}`);
    }
    return payload;
  });
  let store: Store | null = null;
  await app.register(parley, { config, onHandle: (handle) => (store = handle.store) });
  await app.ready();
  return { app, dir, jwt: config.jwt, store: store! as Store };
}

/** What happens, in order, while `alice` sends one message. */
async function sendObserved({ app, jwt }: Awaited<ReturnType<typeof host>>) {
  const alice = clientFor(app, 'alice', await mintToken(jwt, { sub: 'alice' }));
  const chat = await alice.post('/v1/chats', { kind: 'group', name: 'durable' });
  assert.equal(chat.status, 201);
  const observed: string[][] = [];
  for (let i = 0; i < 3; i++) {
    events.length = 0;
    recording = true;
    try {
      const sent = await alice.post(`/v1/chats/${chat.body.id}/messages`, { text: `kept ${i}` });
      assert.equal(sent.status, 201);
    } finally {
      recording = false;
    }
    observed.push([...events]);
  }
  return observed;
}

const fsyncSetting = async (store: Store) =>
  (await sql<{ fsync: string }>`show fsync`.execute(store.db)).rows[0]?.fsync;

describe(
  'durable sends on PGlite (PARLEY_DURABLE)',
  { skip: process.platform !== 'linux' && 'reads /proc' },
  () => {
    it('PARLEY_DURABLE=true: each answered send has its WAL synced to the disk before the answer', async () => {
      const opened = await host({ PARLEY_DURABLE: 'true' });
      const { app, dir, store } = opened;
      try {
        assert.equal(await fsyncSetting(store), 'on');
        const wal = path.join(dir, 'pglite', 'pg_wal') + path.sep;
        for (const sequence of await sendObserved(opened)) {
          assert.equal(sequence[0], 'request POST', sequence.join('\n'));
          assert.equal(sequence.at(-1), 'answer 201', sequence.join('\n'));
          const walSyncs = sequence.slice(1, -1).filter((event) => event.startsWith(`sync ${wal}`));
          assert.ok(
            walSyncs.length >= 1,
            `no WAL sync between the send and its answer:\n${sequence.join('\n')}`,
          );
        }
      } finally {
        await app.close();
      }
    });

    it('by default: PostgreSQL runs with fsync off, and no send syncs anything', async () => {
      const opened = await host({});
      const { app, store } = opened;
      try {
        assert.equal(await fsyncSetting(store), 'off');
        for (const sequence of await sendObserved(opened)) {
          assert.deepEqual(sequence, ['request POST', 'answer 201']);
        }
      } finally {
        await app.close();
      }
    });
  },
);
