import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { mintToken } from '../src/auth/token.ts';
import { dropSchema, TEST_DATABASE_URL, testConfig, testSchemaName } from './support/app.ts';
import { findBinary, freePort, natsDaemon, redisDaemon } from './support/daemons.ts';
import type { Daemon } from './support/daemons.ts';
import { request, SendLedger, sleep } from './support/load.ts';
import { clusterEnv, startServer, type LogEntry, type ServerProcess } from './support/server.ts';
import { StreamClient } from './support/ws.ts';

/**
 * The fan-out bus goes away under load and comes back: a Redis or NATS server the test starts itself, on a port of
 * its own, is killed while clients send through two server processes and read open streams on both. Sends keep
 * being acknowledged while the bus is down; once it is back, every open stream catches up by itself (the gateway
 * resynchronises from the database when its bus reconnects), and every acknowledged message reaches every stream
 * exactly once, in seq order. Membership changes made meanwhile reach the open streams too.
 */

const USERS = ['bus-alice', 'bus-bob', 'bus-carol'];
const CHATS = 2;
const SENDERS = 6;
/** How long the bus stays down: long enough for the clients' retries to give up on what they queued. */
const OUTAGE_MS = 2000;
const CATCH_UP_MS = 20_000;

interface BusUnderTest {
  kind: 'redis' | 'nats';
  package: string;
  binary: string | null;
  daemon: (binary: string, port: number) => Daemon;
  url: (port: number) => Record<string, string>;
}

const BUSES: BusUnderTest[] = [
  {
    kind: 'redis',
    package: 'redis-server',
    binary: findBinary('redis-server', process.env.PARLEY_REDIS_SERVER),
    daemon: redisDaemon,
    url: (port) => ({ REDIS_URL: `redis://127.0.0.1:${port}` }),
  },
  {
    kind: 'nats',
    package: 'nats-server',
    binary: findBinary('nats-server', process.env.PARLEY_NATS_SERVER),
    daemon: natsDaemon,
    url: (port) => ({ NATS_URL: `nats://127.0.0.1:${port}` }),
  },
];

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function skipReason({ kind, package: name, binary }: BusUnderTest): string | false {
  if (!TEST_DATABASE_URL) {
    return 'two processes share one database only on PostgreSQL: runs in the PostgreSQL pass';
  }
  if (!binary) {
    return `no ${name} binary (Debian: apt-get install ${name}): the ${kind} bus outage is not tested`;
  }
  return false;
}

/** What a process logged about its bus, from `since` (an index into its logs) on. */
function busLines(server: ServerProcess, since = 0): LogEntry[] {
  return server.logs
    .slice(since)
    .filter((l) => l.level >= 40 && /bus/.test(`${l.msg ?? ''} ${String(l.bus ?? '')}`));
}

const reconnectsOf = (server: ServerProcess) =>
  server.logs.filter((l) => l.msg?.startsWith('event bus reconnected')).length;

async function until(what: string, ms: number, ok: () => boolean, failed: () => unknown = () => null) {
  const deadline = Date.now() + ms;
  while (!ok()) {
    const failure = failed();
    if (failure !== null) {
      throw failure;
    }
    assert.ok(Date.now() < deadline, `${what} within ${ms} ms`);
    await sleep(20);
  }
}

for (const bus of BUSES) {
  describe(
    `the ${bus.kind} bus goes away and comes back (a server the test owns)`,
    { skip: skipReason(bus) },
    () => {
      const schema = testSchemaName();
      const config = testConfig({}, schema);
      const servers: ServerProcess[] = [];
      const streams: StreamClient[] = [];
      let daemon: Daemon | null = null;

      before(async () => {
        const port = await freePort();
        daemon = bus.daemon(bus.binary!, port);
        await daemon.start();
        const env = clusterEnv(schema, {
          PARLEY_BUS: bus.kind,
          ...bus.url(port),
          PARLEY_RESUME_GRACE_MS: '0',
          PARLEY_RATE_LIMIT_USER: '0',
          PARLEY_RATE_LIMIT_IP: '0',
        });
        // The first migrates the schema; the second starts on a ready one.
        servers.push(await startServer(env));
        servers.push(await startServer(env));
      });

      after(async () => {
        await Promise.allSettled(streams.map((s) => s.close()));
        await Promise.allSettled(servers.map((s) => s.stop()));
        await daemon?.kill();
        await dropSchema(schema);
      });

      /** Kills the bus, waits, starts it again, and waits until both processes have reconnected. */
      async function outage(
        during: () => Promise<void>,
      ): Promise<{ restartedAt: number; reconnectedMs: number }> {
        const before = servers.map(reconnectsOf);
        await daemon!.kill();
        await during();
        await daemon!.start();
        const restartedAt = Date.now();
        await until('both processes noticed the bus was back', 15_000, () =>
          servers.every((s, i) => reconnectsOf(s) > before[i]!),
        );
        return { restartedAt, reconnectedMs: Date.now() - restartedAt };
      }

      it('acknowledges sends while it is down; every open stream then gets every message once, in order', async (t: TestContext) => {
        const [a, b] = servers as [ServerProcess, ServerProcess];
        const tokens = await Promise.all(USERS.map((sub) => mintToken(config.jwt, { sub })));
        for (const token of tokens) {
          assert.equal((await request(a.url, token, 'GET', '/v1/me')).status, 200);
        }
        const chatIds: string[] = [];
        for (let i = 0; i < CHATS; i++) {
          const chat = await request(a.url, tokens[0]!, 'POST', '/v1/chats', {
            kind: 'group',
            name: `bus outage ${i}`,
            members: USERS.slice(1),
          });
          assert.equal(chat.status, 201, JSON.stringify(chat.body));
          chatIds.push(chat.body.id as string);
        }
        // Every user holds a stream on each process: six streams, each following both chats.
        const open: StreamClient[] = [];
        for (const node of [a, b]) {
          for (const token of tokens) {
            open.push(await StreamClient.connect(node.url, token));
          }
        }
        streams.push(...open);
        const logsAtStart = servers.map((s) => s.logs.length);

        const ledger = new SendLedger();
        const refused: string[] = [];
        let stopping = false;
        let failure: unknown = null;
        let sent = 0;
        /** Senders alternate processes and chats; every answer must be an acknowledgement, bus or no bus. */
        const load = () =>
          Array.from({ length: SENDERS }, (_, c) =>
            (async () => {
              try {
                while (!stopping) {
                  const n = sent++;
                  const clientId = `s${c}-${n}`;
                  const answer = await ledger.send([a, b][n % 2]!.url, {
                    chatId: chatIds[(c + n) % CHATS]!,
                    clientId,
                    text: `sender ${c}, message ${n}`,
                    token: tokens[c % tokens.length]!,
                  });
                  if (answer?.status !== 201) {
                    refused.push(`${clientId}: ${answer ? answer.status : 'no answer'}`);
                  }
                }
              } catch (error) {
                failure ??= error;
                stopping = true;
              }
            })(),
          );
        const waitFor = (what: string, ms: number, ok: () => boolean) => until(what, ms, ok, () => failure);
        /** The highest acknowledged seq of each chat: what every stream must have received, 1..N. */
        const caughtUp = () => {
          const last = new Map(chatIds.map((id) => [id, 0]));
          for (const [clientId, stored] of ledger.acked) {
            const chatId = ledger.attempts.get(clientId)!.chatId;
            last.set(chatId, Math.max(last.get(chatId)!, stored.seq));
          }
          return open.every((s) => chatIds.every((id) => s.seqs(id).length >= last.get(id)!));
        };

        // 1. The bus dies mid-load and stays away while sends go on; the load stops before it is back, so nothing
        // but the reconnect can bring the streams up to date.
        let senders = load();
        await waitFor('100 sends before the outage', 30_000, () => ledger.acked.size >= 100);
        let ackedAtKill = 0;
        const first = await outage(async () => {
          ackedAtKill = ledger.acked.size;
          await sleep(OUTAGE_MS);
          stopping = true;
          await Promise.all(senders);
        });
        const ackedWhileDown = ledger.acked.size - ackedAtKill;
        await waitFor('every stream caught up after the bus came back', CATCH_UP_MS, caughtUp);
        const firstCatchUpMs = Date.now() - first.restartedAt;

        // 2. Again, with the load running through the outage and the restart: events published while the processes
        // reconnect either arrive or are found by the resync.
        stopping = false;
        senders = load();
        const ackedAtSecond = ledger.acked.size;
        await waitFor('100 more sends', 30_000, () => ledger.acked.size >= ackedAtSecond + 100);
        const second = await outage(() => sleep(OUTAGE_MS));
        const ackedAtSecondRestart = ledger.acked.size;
        await waitFor(
          '100 sends after the second restart',
          30_000,
          () => ledger.acked.size >= ackedAtSecondRestart + 100,
        );
        stopping = true;
        await Promise.all(senders);
        const stoppedAt = Date.now();
        await waitFor('every stream caught up after the second outage', CATCH_UP_MS, caughtUp);
        const secondCatchUpMs = Date.now() - stoppedAt;

        // 3. Live again: a message sent now through either process reaches every stream without a resync.
        for (const [i, node] of [a, b].entries()) {
          const reconnectsNow = servers.map(reconnectsOf);
          const answer = await ledger.send(node.url, {
            chatId: chatIds[0]!,
            clientId: `live-${i}`,
            text: `live through process ${i}`,
            token: tokens[0]!,
          });
          assert.equal(answer?.status, 201);
          const seq = answer.body.seq as number;
          for (const stream of open) {
            await stream.waitFor(
              (f) => f.type === 'message.created' && f.chatId === chatIds[0] && f.message.seq === seq,
            );
          }
          assert.deepEqual(servers.map(reconnectsOf), reconnectsNow, 'delivered live, not by a resync');
        }

        assert.equal(failure, null);
        assert.deepEqual(refused, [], 'every send is acknowledged with 201, the bus up or down');
        assert.ok(
          ackedWhileDown >= 20,
          `only ${ackedWhileDown} sends were acknowledged while the bus was down`,
        );
        // Every stream: every message of every chat, exactly once, in seq order, and nothing else.
        const history = await ledger.verify(a.url, tokens[1]!, chatIds);
        await sleep(200);
        for (const [i, stream] of open.entries()) {
          for (const chatId of chatIds) {
            assert.deepEqual(
              stream.seqs(chatId),
              range(1, history.get(chatId)!),
              `stream ${i} of chat ${chatId}: every seq once, in order`,
            );
          }
          assert.equal(stream.closeCode, null, `stream ${i} stayed open`);
        }
        // Two outages are reported as such, not as one line per event that could not be published.
        const lines = servers.map((s, i) => busLines(s, logsAtStart[i]));
        for (const [i, node] of servers.entries()) {
          assert.equal(node.child.exitCode, null, 'the server processes served throughout');
          assert.ok(
            lines[i]!.length <= 12,
            `process ${i} logged ${lines[i]!.length} lines about its bus for two outages:\n` +
              lines[i]!.slice(0, 20)
                .map((l) => l.msg)
                .join('\n'),
          );
        }
        t.diagnostic(
          `${bus.kind}: ${ledger.acked.size} sends acknowledged, ${ackedWhileDown} of them while the bus was down ` +
            `(${OUTAGE_MS} ms); the processes reconnected ${first.reconnectedMs} / ${second.reconnectedMs} ms after ` +
            `the bus came back; 6 streams caught up ${firstCatchUpMs} ms after the restart (the load stopped during ` +
            `the outage) and ${secondCatchUpMs} ms after the last send (the load ran through the restart); chats hold ${[...history.values()].join(', ')} messages; warnings ` +
            `and errors about the bus per process: ${lines.map((l) => l.length).join(', ')}`,
        );
      });

      it('applies membership changes made while it is down to the open streams once it is back', async (t: TestContext) => {
        const [a, b] = servers as [ServerProcess, ServerProcess];
        const [alice, bob, carol] = await Promise.all(
          ['m-alice', 'm-bob', 'm-carol'].map((sub) => mintToken(config.jwt, { sub })),
        );
        for (const token of [alice!, bob!, carol!]) {
          assert.equal((await request(a.url, token, 'GET', '/v1/me')).status, 200);
        }
        const post = async (node: ServerProcess, path: string, body: unknown): Promise<{ id: string }> => {
          const answer = await request(node.url, alice!, 'POST', path, body);
          assert.equal(answer.status, 201, JSON.stringify(answer.body));
          return answer.body as { id: string };
        };
        const x = (await post(a, '/v1/chats', { kind: 'group', name: 'x', members: ['m-bob', 'm-carol'] }))
          .id as string;
        const bobs = [await StreamClient.connect(a.url, bob!), await StreamClient.connect(b.url, bob!)];
        const carols = [await StreamClient.connect(a.url, carol!), await StreamClient.connect(b.url, carol!)];
        streams.push(...bobs, ...carols);
        await post(a, `/v1/chats/${x}/messages`, { text: 'x 1' });
        for (const stream of [...bobs, ...carols]) {
          await stream.waitFor((f) => f.type === 'message.created' && f.chatId === x);
        }

        // While the bus is down: Bob is in a new chat, Carol is removed from x, and both chats go on.
        let y = '';
        const { reconnectedMs } = await outage(async () => {
          y = (await post(b, '/v1/chats', { kind: 'group', name: 'y', members: ['m-bob'] })).id as string;
          const removed = await request(a.url, alice!, 'DELETE', `/v1/chats/${x}/members/m-carol`);
          assert.equal(removed.status, 204, JSON.stringify(removed.body));
          for (const n of [2, 3]) {
            await post(b, `/v1/chats/${x}/messages`, { text: `x ${n}, after Carol left` });
            await post(a, `/v1/chats/${y}/messages`, { text: `y ${n - 1}` });
          }
          await sleep(OUTAGE_MS);
        });
        await post(a, `/v1/chats/${x}/messages`, { text: 'x 4' });
        await post(b, `/v1/chats/${y}/messages`, { text: 'y 3' });

        for (const stream of bobs) {
          await stream.waitFor((f) => f.type === 'message.created' && f.chatId === x && f.message.seq === 4);
          await stream.waitFor((f) => f.type === 'message.created' && f.chatId === y && f.message.seq === 3);
          assert.deepEqual(stream.seqs(x), [1, 2, 3, 4]);
          // A chat joined during the outage is followed from where the stream learnt of it (as after a reconnect)
          // or, when its chat.created got through, from its first message: in order, once each, up to the last.
          const ys = stream.seqs(y);
          assert.deepEqual(ys, range(ys[0]!, 3), `y: ${JSON.stringify(ys)}`);
          assert.ok(
            stream.frames.some(
              (f) =>
                (f.type === 'chat.created' && f.chat.id === y) ||
                (f.type === 'member.added' && f.chatId === y && f.userId === 'm-bob'),
            ),
            'Bob is told about the chat he is in now',
          );
        }
        await sleep(300);
        for (const stream of carols) {
          assert.deepEqual(stream.seqs(x), [1], 'nothing of x reaches Carol once she is removed');
          assert.ok(
            stream.frames.some(
              (f) => f.type === 'member.removed' && f.chatId === x && f.userId === 'm-carol',
            ),
            'Carol is told she is no longer in x',
          );
          assert.equal(stream.closeCode, null);
        }
        t.diagnostic(`${bus.kind}: both processes reconnected ${reconnectedMs} ms after the bus came back`);
      });
    },
  );
}
