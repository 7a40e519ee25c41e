import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mintToken } from '../src/auth/token.ts';
import {
  dropSchema,
  TEST_DATABASE_URL,
  TEST_ISSUER,
  TEST_SECRET,
  testConfig,
  testSchemaName,
} from './support/app.ts';
import { call as api, clusterEnv, startServer, type LogEntry, type ServerProcess } from './support/server.ts';
import { StreamClient } from './support/ws.ts';

/**
 * `parley serve --workers N`: several server processes behind one port (node:cluster). Requests are spread over the
 * workers; a stream on one worker hears what is sent through another (the bus); a worker killed with SIGKILL is
 * replaced while the others go on answering; SIGTERM to the primary stops them all.
 */

const skip = TEST_DATABASE_URL ? false : 'workers share one database only on PostgreSQL';

async function until<T>(find: () => T | undefined, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = find();
    if (found !== undefined) {
      return found;
    }
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The workers the primary reported listening, by pid, in order. */
function listening(logs: LogEntry[]): number[] {
  return logs.filter((entry) => entry.msg === 'worker listening').map((entry) => Number(entry.workerPid));
}

/** The pids of the processes that answered requests to `path` (LOG_LEVEL=debug logs every request). */
function answeredBy(logs: LogEntry[], path: RegExp): Set<number> {
  return new Set(
    logs
      .filter((entry) => entry.msg === 'request completed' && path.test(String(entry.url)))
      .map((entry) => Number(entry.pid)),
  );
}

describe('parley serve --workers 2 (PostgreSQL)', { skip }, () => {
  const schema = testSchemaName();
  const config = testConfig({}, schema);
  let server: ServerProcess;
  let alice = '';
  let bob = '';
  let chatId = '';

  before(async () => {
    server = await startServer(clusterEnv(schema, { LOG_LEVEL: 'debug' }), [], { args: ['--workers', '2'] });
    await until(() => (listening(server.logs).length >= 2 ? true : undefined), 'two workers');
    alice = await mintToken(config.jwt, { sub: 'w-alice' });
    bob = await mintToken(config.jwt, { sub: 'w-bob' });
    await api(server, bob, 'GET', '/v1/me');
    const chat = await api(server, alice, 'POST', '/v1/chats', {
      kind: 'group',
      name: 'W',
      members: ['w-bob'],
    });
    assert.equal(chat.status, 201);
    chatId = chat.body.id;
  });

  after(async () => {
    await server?.stop();
    await dropSchema(schema);
  });

  it('spreads requests over both workers, and a stream on either hears every send in seq order', async () => {
    const pids = listening(server.logs);
    assert.equal(new Set(pids).size, 2, 'two worker processes');
    assert.ok(!pids.includes(server.child.pid!), 'the primary serves nothing itself');
    // Several streams: connections go to the workers in turn, so some are on each.
    const streams = await Promise.all([1, 2, 3, 4].map(() => StreamClient.connect(server.url, bob)));
    try {
      const sends = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          api(server, alice, 'POST', `/v1/chats/${chatId}/messages`, { text: `w ${i}` }),
        ),
      );
      assert.deepEqual(
        sends.map((send) => send.status),
        sends.map(() => 201),
      );
      const seqs = sends.map((send) => send.body.seq).sort((a, b) => a - b);
      assert.deepEqual(
        seqs,
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
      for (const stream of streams) {
        await stream.waitFor('message.created', (f) => f.chatId === chatId && f.message.seq === 40);
        assert.deepEqual(
          stream.seqs(chatId),
          seqs,
          'each stream, whatever its worker, got every send in order',
        );
      }
      const senders = answeredBy(server.logs, /\/messages$/);
      assert.deepEqual([...senders].sort(), [...pids].sort(), 'both workers took sends');
    } finally {
      await Promise.all(streams.map((stream) => stream.close()));
    }
  });

  it('replaces a worker killed with SIGKILL; the other answers meanwhile', async () => {
    const [victim, survivor] = listening(server.logs);
    process.kill(victim!, 'SIGKILL');
    await until(
      () => server.logs.find((entry) => entry.msg === 'a worker died; starting another'),
      'the primary to notice',
    );
    // Meanwhile (and after), every request is answered: by the survivor until the new worker listens.
    const during = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        api(server, alice, 'POST', `/v1/chats/${chatId}/messages`, { text: `during ${i}` }),
      ),
    );
    assert.deepEqual(
      during.map((send) => send.status),
      during.map(() => 201),
    );
    const replacement = await until(
      () => listening(server.logs).find((pid) => pid !== victim && pid !== survivor),
      'a new worker',
    );
    assert.ok(replacement > 0);
    const page = await api(server, bob, 'GET', `/v1/chats/${chatId}/messages?limit=100`);
    assert.equal(page.status, 200);
    assert.equal(page.body.data.length, 50, 'nothing lost: 40 + 10 messages');
  });

  it('stops every worker on SIGTERM and exits 0', async () => {
    const pids = listening(server.logs).slice(-2);
    await server.stop();
    assert.equal(server.child.exitCode, 0);
    assert.ok(server.logs.some((entry) => entry.msg === 'every worker has stopped'));
    for (const pid of pids) {
      assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} is gone`);
    }
  });
});

describe('parley serve --workers: refusals', () => {
  it('refuses the embedded database, the local bus and a bad count, saying why', async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'parley-workers-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const embedded = {
      NODE_ENV: 'test',
      JWT_SECRET: TEST_SECRET,
      JWT_ISSUER: TEST_ISSUER,
      DATABASE_URL: '',
      DB_HOST: '',
      PARLEY_BUS: '',
      PARLEY_DATA_DIR: dir,
    };
    await assert.rejects(
      startServer(embedded, [], { args: ['--workers', '2'] }),
      /exited with 1[\s\S]*--workers needs a PostgreSQL server/,
    );
    await assert.rejects(
      startServer(embedded, [], { args: ['--workers', '0'] }),
      /exited with 1[\s\S]*--workers must be a whole number from 1 to 256, or auto/,
    );
    if (TEST_DATABASE_URL) {
      await assert.rejects(
        startServer(clusterEnv(testSchemaName(), { PARLEY_BUS: 'local' }), [], { args: ['--workers', '2'] }),
        /exited with 1[\s\S]*--workers needs a bus between processes/,
      );
    }
  });
});
