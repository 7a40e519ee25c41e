import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { mintToken } from '../src/auth/token.ts';
import { BlackHoleProxy } from './support/blackhole.ts';
import { dropSchema, TEST_DATABASE_URL, testConfig, testSchemaName } from './support/app.ts';
import { quantile, request, sleep, type Answer } from './support/load.ts';
import { clusterEnv, startServer, type ServerProcess } from './support/server.ts';

/**
 * A database that vanishes from the network without a word (packets dropped: no refusal, no reset), under load. The
 * server process reaches PostgreSQL through a proxy on loopback that the test turns into a black hole, never the
 * shared server itself. The requests caught by it answer 503 within one deadline; once a probe has confirmed the
 * outage, requests are refused at once and readiness is false; when the network heals, the same process serves
 * again within a few probe intervals.
 */

const DEADLINE_MS = 1500;
/** Room for a loaded machine (two cores shared with other work): precise figures go to the diagnostics. */
const SLACK_MS = 1500;
const CLIENTS = 8;

interface Outcome {
  at: number;
  end: number;
  status: number;
  code: unknown;
  retryAfter: string | null;
}

function outcomeOf(answer: Answer): Outcome {
  return {
    at: answer.at,
    end: answer.at + answer.ms,
    status: answer.status,
    code: (answer.body as { error?: { code?: unknown } } | null)?.error?.code,
    retryAfter: answer.headers.get('retry-after'),
  };
}

describe(
  'a black-holed database (a proxy that stops forwarding)',
  {
    skip: TEST_DATABASE_URL
      ? false
      : 'PostgreSQL only: PGlite runs in the process and cannot be cut off from it',
  },
  () => {
    it('503 within one deadline, then at once while it lasts; readiness false; serves again without a restart', async (t: TestContext) => {
      const direct = new URL(TEST_DATABASE_URL!);
      const proxy = await BlackHoleProxy.start({ host: direct.hostname, port: Number(direct.port || 5432) });
      const viaProxy = new URL(TEST_DATABASE_URL!);
      viaProxy.host = `127.0.0.1:${proxy.port}`;
      const schema = testSchemaName();
      let server: ServerProcess | null = null;
      let stopping = false;
      let failure: unknown = null;
      const outcomes: Outcome[] = [];
      const clients: Promise<void>[] = [];
      try {
        server = await startServer(
          clusterEnv(schema, {
            DATABASE_URL: viaProxy.toString(),
            DB_HOST: '',
            PARLEY_BUS: 'postgres',
            DB_POOL_SIZE: '4',
            DB_CONNECT_TIMEOUT_MS: String(DEADLINE_MS),
            DB_QUERY_TIMEOUT_MS: String(DEADLINE_MS),
            PARLEY_RATE_LIMIT_USER: '0',
            PARLEY_RATE_LIMIT_IP: '0',
          }),
        );
        const live = server;
        const config = testConfig();
        const tokens = await Promise.all(['bh-alice', 'bh-bob'].map((sub) => mintToken(config.jwt, { sub })));
        for (const token of tokens) {
          assert.equal((await request(live.url, token, 'GET', '/v1/me')).status, 200);
        }
        const chat = await request(live.url, tokens[0]!, 'POST', '/v1/chats', {
          kind: 'group',
          name: 'black hole',
          members: ['bh-bob'],
        });
        assert.equal(chat.status, 201, JSON.stringify(chat.body));
        const chatId = chat.body.id as string;
        const send = (token: string, text: string) =>
          request(live.url, token, 'POST', `/v1/chats/${chatId}/messages`, { text });

        // The load: each client sends, then reads the latest page, again and again.
        for (let c = 0; c < CLIENTS; c++) {
          clients.push(
            (async () => {
              try {
                for (let n = 0; !stopping; n++) {
                  const token = tokens[c % tokens.length]!;
                  const answer =
                    n % 2 === 0
                      ? await send(token, `client ${c}, message ${n}`)
                      : await request(live.url, token, 'GET', `/v1/chats/${chatId}/messages?limit=20`);
                  const outcome = outcomeOf(answer);
                  outcomes.push(outcome);
                  assert.ok(
                    outcome.status < 300 || outcome.status === 503,
                    `${outcome.status} ${JSON.stringify(answer.body)}`,
                  );
                  if (outcome.status === 503) {
                    await sleep(20);
                  }
                }
              } catch (error) {
                // An answer that never came (the request's own 20 s limit) or an unexpected one.
                failure ??= error;
                stopping = true;
              }
            })(),
          );
        }
        const waitFor = async (what: string, ms: number, ok: () => boolean | Promise<boolean>) => {
          const deadline = Date.now() + ms;
          while (!(await ok())) {
            if (failure !== null) {
              throw failure;
            }
            assert.ok(Date.now() < deadline, `${what} within ${ms} ms`);
            await sleep(20);
          }
        };
        const served = () => outcomes.filter((o) => o.status < 300).length;
        const logged = (msg: string) => live.logs.filter((entry) => entry.msg === msg);

        await waitFor('200 answers before the black hole', 30_000, () => served() >= 200);
        const darkAt = Date.now();
        proxy.blackHole();

        await waitFor(
          'the outage confirmed and logged',
          20_000,
          () => logged('database unavailable: answering 503 until it is back').length > 0,
        );
        const openedAt = logged('database unavailable: answering 503 until it is back')[0]!.time;
        // Requests now, one after another: refused at once.
        const refusals: Outcome[] = [];
        for (let i = 0; i < 20; i++) {
          refusals.push(outcomeOf(await send(tokens[1]!, `refused ${i}`)));
        }
        const readiness = await request(live.url, '', 'GET', '/health/ready', undefined, 10_000);
        assert.equal(readiness.status, 503);
        assert.equal(readiness.body.database, 'down');

        const lightAt = Date.now();
        proxy.forward();
        let restMs = 0;
        let readyMs = 0;
        await waitFor('a send served again', 15_000, async () => {
          if ((await send(tokens[0]!, 'after the black hole')).status !== 201) {
            return false;
          }
          restMs = Date.now() - lightAt;
          return true;
        });
        await waitFor('readiness true again', 15_000, async () => {
          if ((await request(live.url, '', 'GET', '/health/ready', undefined, 10_000)).status !== 200) {
            return false;
          }
          readyMs = Date.now() - lightAt;
          return true;
        });
        const servedAtRecovery = served();
        await waitFor('the load served again', 15_000, () => served() >= servedAtRecovery + 50);

        stopping = true;
        await Promise.all(clients);
        if (failure !== null) {
          throw failure;
        }

        // Every 503 is the contract's, with a hint when to retry.
        const refused = outcomes.filter((o) => o.status === 503);
        for (const outcome of [...refused, ...refusals]) {
          assert.equal(outcome.status, 503);
          assert.equal(outcome.code, 'unavailable');
          assert.equal(outcome.retryAfter, '1');
        }
        // Caught by the black hole: no answer took longer than one deadline.
        const caught = refused.filter((o) => o.at < openedAt);
        assert.ok(caught.length > 0, 'requests were caught by the black hole');
        const slowest = Math.max(...caught.map((o) => o.end - o.at));
        assert.ok(slowest <= DEADLINE_MS + SLACK_MS, `the slowest 503 took ${slowest} ms`);
        const firstRefusal = Math.min(...refused.map((o) => o.end)) - darkAt;
        assert.ok(firstRefusal <= DEADLINE_MS + SLACK_MS, `the first 503 came ${firstRefusal} ms after`);
        // Once the outage is known: at once, the database not waited on.
        const fast = [...refusals, ...refused.filter((o) => o.at > openedAt + 100)].map((o) => o.end - o.at);
        const fastMedian = quantile(fast, 0.5);
        assert.ok(fastMedian < 200, `503s once the outage was known: median ${fastMedian} ms`);
        assert.ok(
          Math.max(...fast) < 1000,
          `503s once the outage was known: slowest ${Math.max(...fast)} ms`,
        );
        // Recovery: within a few probe intervals (1 s each).
        assert.ok(restMs <= 5000, `served again ${restMs} ms after the network healed`);
        // The outage is logged once when it starts and once when it ends, not per request.
        assert.equal(logged('database unavailable: answering 503 until it is back').length, 1);
        assert.equal(logged('database reachable again').length, 1);
        assert.equal(live.child.exitCode, null, 'the same process served throughout');
        t.diagnostic(
          `deadline ${DEADLINE_MS} ms; black hole: first 503 after ${firstRefusal} ms, slowest caught 503 ` +
            `${slowest} ms (${caught.length} caught), outage confirmed after ${openedAt - darkAt} ms; then 503s in ` +
            `${quantile(fast, 0.5)} ms median, ${quantile(fast, 0.95)} ms p95, ${Math.max(...fast)} ms max ` +
            `(${fast.length}); readiness 503 in ${readiness.ms} ms; network healed: a send served after ${restMs} ms, ` +
            `readiness true after ${readyMs} ms`,
        );
      } finally {
        stopping = true;
        await Promise.allSettled(clients);
        await server?.stop();
        await proxy.close();
        await dropSchema(schema);
      }
    });
  },
);
