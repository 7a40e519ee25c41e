import type { Request } from 'autocannon';
import { baseline, load, type Row } from './http.ts';
import { api, machine, percentile, pool, startBenchServer, table } from './harness.ts';

const USERS = Number(process.env.BENCH_SCALE_USERS ?? 100);
const CHATS = Number(process.env.BENCH_SCALE_CHATS ?? 10_000);
const MEMBERS = Number(process.env.BENCH_SCALE_MEMBERS ?? 4);
const MESSAGES = Number(process.env.BENCH_SCALE_MESSAGES ?? 2);
const PARALLEL = 20;

/** A small deterministic generator (mulberry32), so that every run builds the same memberships. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Step extends Record<string, string | number> {
  step: string;
  requests: number;
  seconds: string;
  'req/s': number;
  'p50 ms': string;
  'p99 ms': string;
}

/** Runs `task` over `items` as the fixture does (PARALLEL at once) and times each call and the whole. */
async function timed<T>(name: string, items: T[], task: (item: T) => Promise<void>): Promise<Step> {
  const took: number[] = [];
  const started = performance.now();
  await pool(items, PARALLEL, async (item) => {
    const t0 = performance.now();
    await task(item);
    took.push(performance.now() - t0);
  });
  const seconds = (performance.now() - started) / 1000;
  took.sort((a, b) => a - b);
  return {
    step: name,
    requests: items.length,
    seconds: seconds.toFixed(1),
    'req/s': Math.round(items.length / seconds),
    'p50 ms': percentile(took, 50).toFixed(1),
    'p99 ms': percentile(took, 99).toFixed(1),
  };
}

/**
 * A tenant of realistic shape built through the API, as a deployment grows: USERS users, CHATS group chats of
 * MEMBERS members each (so a user is in CHATS × MEMBERS ÷ USERS chats, 400 by default), MESSAGES messages in each.
 * Nothing analyzes the tables by hand: the plans are what a server keeps by itself (autovacuum, or Parley's own
 * maintenance where there is none). The chat creations are timed in tenths, so that a slowdown as the tables grow
 * shows; then the usual load rows run on the result.
 */
export async function scale(): Promise<void> {
  const reference = await baseline();
  const bench = await startBenchServer({ PARLEY_MAX_CHATS_PER_USER: String(CHATS) });
  try {
    const base = bench.server.url;
    const users = Array.from({ length: USERS }, (_, i) => `scale-${i}`);
    const tokens = await Promise.all(users.map((u) => bench.token(u)));
    const steps: Step[] = [];
    steps.push(
      await timed('first request of each user', tokens, async (token) => {
        await api(base, token, 'GET', '/v1/me');
      }),
    );
    const next = random(20);
    const plan = Array.from({ length: CHATS }, (_, i) => {
      const owner = i % USERS;
      const others = new Set<number>();
      while (others.size < Math.min(MEMBERS - 1, USERS - 1)) {
        const u = Math.floor(next() * USERS);
        if (u !== owner) {
          others.add(u);
        }
      }
      return { i, owner, others: [...others] };
    });
    const chats: { id: string; owner: number }[] = new Array(CHATS);
    const tenth = Math.max(1, Math.ceil(CHATS / 10));
    for (let start = 0; start < CHATS; start += tenth) {
      const part = plan.slice(start, start + tenth);
      const step = await timed(`create chats ${start + 1}–${start + part.length}`, part, async (c) => {
        const chat = await api(base, tokens[c.owner]!, 'POST', '/v1/chats', {
          kind: 'group',
          name: `scale ${c.i}`,
          members: c.others.map((u) => users[u]),
        });
        chats[c.i] = { id: chat.id, owner: c.owner };
      });
      steps.push(step);
      console.error(`  ${step.step}: ${step['req/s']}/s, p99 ${step['p99 ms']} ms`);
    }
    const sends = chats.flatMap((c) => Array.from({ length: MESSAGES }, (_, m) => ({ c, m })));
    steps.push(
      await timed(`send ${MESSAGES} messages into each chat`, sends, async ({ c, m }) => {
        await api(base, tokens[c.owner]!, 'POST', `/v1/chats/${c.id}/messages`, {
          text: `scale message ${m}`,
        });
      }),
    );
    console.log(
      `\nA tenant of ${USERS} users and ${CHATS} chats of ${MEMBERS} on ${bench.engine}, built through the API ` +
        `with ${PARALLEL} requests at once (${machine()})`,
    );
    table(steps);

    // The load: one user of average size (in ~CHATS × MEMBERS ÷ USERS chats).
    const who = 0;
    const token = tokens[who]!;
    const mine = plan.filter((c) => c.owner === who || c.others.includes(who)).map((c) => chats[c.i]!.id);
    const auth = { authorization: `Bearer ${token}` };
    let n = 0;
    const url = bench.server.url;
    const pid = bench.server.child.pid!;
    const get = (p: string) => (): Request => ({ method: 'GET', path: p, headers: auth });
    const rows: (Row | null)[] = [reference];
    rows.push(
      await load(
        `send over the user's ${mine.length} chats`,
        url,
        () => ({
          method: 'POST',
          path: `/v1/chats/${mine[n++ % mine.length]}/messages`,
          body: JSON.stringify({ text: `load ${n}` }),
          headers: { ...auth, 'content-type': 'application/json' },
        }),
        pid,
      ),
    );
    rows.push(await load('history page (50)', url, get(`/v1/chats/${mine[0]}/messages?limit=50`), pid));
    rows.push(await load(`unread summary, user in ${mine.length} chats`, url, get('/v1/unread'), pid));
    rows.push(
      await load(`chat list (50), user in ${mine.length} chats`, url, get('/v1/chats?limit=50'), pid),
    );
    const shown = rows.filter((r): r is Row => r !== null);
    console.log(
      `\nThe load on that tenant, for user ${users[who]}: "× baseline" = req/s ÷ the Fastify hello route's`,
    );
    table(shown.map((r) => ({ ...r, '× baseline': (r['req/s'] / reference['req/s']).toFixed(2) })));
  } finally {
    await bench.stop();
  }
}
