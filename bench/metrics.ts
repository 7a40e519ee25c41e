import autocannon, { type Request } from 'autocannon';
import { api, cpuSeconds, machine, pool, startBenchServer, table, type BenchServer } from './harness.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const CHATS = 50;

interface Target {
  bench: BenchServer;
  token: string;
  chats: string[];
}

/** One user in CHATS chats with another member; the first chat has 200 messages. */
async function target(metrics: boolean): Promise<Target> {
  const bench = await startBenchServer({ PARLEY_METRICS: String(metrics) });
  const base = bench.server.url;
  const token = await bench.token('overhead-user');
  const other = await bench.token('overhead-other');
  await api(base, token, 'GET', '/v1/me');
  await api(base, other, 'GET', '/v1/me');
  const chats: string[] = [];
  await pool(
    Array.from({ length: CHATS }, (_, i) => i),
    10,
    async (i) => {
      const chat = await api(base, token, 'POST', '/v1/chats', {
        kind: 'group',
        name: `overhead ${i}`,
        members: ['overhead-other'],
      });
      chats.push(chat.id);
    },
  );
  await pool(
    Array.from({ length: 200 }, (_, i) => i),
    10,
    async (i) => {
      await api(base, other, 'POST', `/v1/chats/${chats[0]}/messages`, { text: `history ${i}` });
    },
  );
  return { bench, token, chats };
}

interface Scenario {
  name: string;
  request: (t: Target) => () => Request;
}

const scenarios: Scenario[] = [
  { name: 'GET /health/live (no database)', request: () => () => ({ method: 'GET', path: '/health/live' }) },
  {
    name: 'GET /v1/me',
    request: (t) => () => ({
      method: 'GET',
      path: '/v1/me',
      headers: { authorization: `Bearer ${t.token}` },
    }),
  },
  {
    name: 'history page (50)',
    request: (t) => () => ({
      method: 'GET',
      path: `/v1/chats/${t.chats[0]}/messages?limit=50`,
      headers: { authorization: `Bearer ${t.token}` },
    }),
  },
  {
    name: `send over ${CHATS} chats`,
    request: (t) => {
      let n = 0;
      return () => ({
        method: 'POST',
        path: `/v1/chats/${t.chats[++n % t.chats.length]}/messages`,
        body: JSON.stringify({ text: `load ${n}` }),
        headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
      });
    },
  },
];

interface Round {
  rps: number;
  p99: number;
  errors: number;
  /** Server CPU time per request, in microseconds: throughput on a shared machine swings, this much less. */
  cpuMicros: number;
}

async function load(t: Target, request: () => Request): Promise<Round> {
  const pid = t.bench.server.child.pid!;
  const cpuBefore = cpuSeconds(pid);
  const result = await autocannon({
    url: t.bench.server.url,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [{ setupRequest: (req: Request) => ({ ...req, ...request() }) }],
  });
  const cpu = cpuSeconds(pid) - cpuBefore;
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
    cpuMicros: (cpu / Math.max(1, result.requests.total)) * 1e6,
  };
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/**
 * What metrics cost: the same requests against two servers started side by side, one with PARLEY_METRICS=false,
 * in alternating rounds (on/off, then off/on, ...), so that a busy neighbour slows both alike. Besides throughput,
 * the server's CPU time per request (from /proc), which a shared machine disturbs far less.
 */
export async function metricsOverhead(): Promise<void> {
  const on = await target(true);
  const off = await target(false);
  try {
    const rows = [];
    for (const scenario of scenarios) {
      const rounds = new Map<Target, Round[]>([
        [on, []],
        [off, []],
      ]);
      for (let round = 0; round < ROUNDS; round++) {
        for (const t of round % 2 === 0 ? [on, off] : [off, on]) {
          rounds.get(t)!.push(await load(t, scenario.request(t)));
        }
      }
      const of = (t: Target, key: keyof Round) => mean(rounds.get(t)!.map((r) => r[key]));
      const list = (t: Target) =>
        rounds
          .get(t)!
          .map((r) => Math.round(r.rps))
          .join(' ');
      rows.push({
        scenario: scenario.name,
        'req/s on': Math.round(of(on, 'rps')),
        'req/s off': Math.round(of(off, 'rps')),
        'on ÷ off': (of(on, 'rps') / of(off, 'rps')).toFixed(3),
        'rounds on': list(on),
        'rounds off': list(off),
        'p99 ms on/off': `${of(on, 'p99').toFixed(0)}/${of(off, 'p99').toFixed(0)}`,
        'CPU µs/req on/off': `${of(on, 'cpuMicros').toFixed(1)}/${of(off, 'cpuMicros').toFixed(1)}`,
        errors: (of(on, 'errors') + of(off, 'errors')) * ROUNDS,
      });
    }
    const started = performance.now();
    const scrapes = 20;
    let bytes = 0;
    for (let i = 0; i < scrapes; i++) {
      const res = await fetch(`${on.bench.server.url}/metrics`);
      bytes = (await res.text()).length;
    }
    const scrapeMs = (performance.now() - started) / scrapes;
    console.log(
      `\nmetrics overhead on ${on.bench.engine}, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS} s per ` +
        `server and scenario, alternating (${machine()})`,
    );
    table(rows);
    console.log(`\nGET /metrics after the load: ${scrapeMs.toFixed(1)} ms, ${(bytes / 1024).toFixed(0)} KiB`);
  } finally {
    await Promise.all([on.bench.stop(), off.bench.stop()]);
  }
}
