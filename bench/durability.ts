import autocannon, { type Request } from 'autocannon';
import { cpuSeconds, machine, startBenchServer, table, type BenchServer } from './harness.ts';
import { baseline, fixture, type Fixture } from './http.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 6));

interface Target {
  name: string;
  bench: BenchServer;
  f: Fixture;
}

interface Round {
  rps: number;
  p99: number;
  errors: number;
  /** Server CPU time per request, in microseconds. */
  cpuMicros: number;
  /** Sends per batch (group commit), from the server's own metrics. */
  batch: number;
}

interface Scenario {
  name: string;
  chat: (f: Fixture, n: number) => string;
}

const scenarios: Scenario[] = [
  { name: 'send over 1000 chats', chat: (f, n) => f.chats[n % f.chats.length]! },
  { name: 'send into one hot chat', chat: (f) => f.hot },
];

/** The server's count of send batches and of the sends in them, from GET /metrics. */
async function batches(t: Target): Promise<{ count: number; sum: number }> {
  const text = await (await fetch(`${t.bench.server.url}/metrics`)).text();
  const value = (name: string) =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { count: value('parley_send_batch_size_count'), sum: value('parley_send_batch_size_sum') };
}

async function load(t: Target, scenario: Scenario): Promise<Round> {
  const pid = t.bench.server.child.pid!;
  const headers = { authorization: `Bearer ${t.f.token}`, 'content-type': 'application/json' };
  let n = 0;
  const before = await batches(t);
  const cpuBefore = cpuSeconds(pid);
  const result = await autocannon({
    url: t.bench.server.url,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        setupRequest: (req: Request) => ({
          ...req,
          method: 'POST',
          path: `/v1/chats/${scenario.chat(t.f, ++n)}/messages`,
          body: JSON.stringify({ text: `durability ${n}` }),
          headers,
        }),
      },
    ],
  });
  const cpu = cpuSeconds(pid) - cpuBefore;
  const after = await batches(t);
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
    cpuMicros: (cpu / Math.max(1, result.requests.total)) * 1e6,
    batch: (after.sum - before.sum) / Math.max(1, after.count - before.count),
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/**
 * What durable commits cost on the embedded database: two PGlite servers side by side on the same fixture, one with
 * PARLEY_DURABLE=true (every commit synced to the disk before it returns) and one with false, loaded in alternating
 * rounds (on/off, then off/on, ...) with the Fastify hello baseline measured in every round, so that a busy
 * neighbour slows all three alike. Medians over the rounds.
 */
export async function durability(): Promise<void> {
  if (process.env.DATABASE_URL) {
    console.log(
      '\ndurability: PGlite only (PostgreSQL syncs its commits itself); unset DATABASE_URL to run it',
    );
    return;
  }
  const chats = Number(process.env.BENCH_CHATS ?? 1000);
  const env = { PARLEY_MAX_CHATS_PER_USER: String(Math.max(1, chats)) };
  const targets: Target[] = [];
  try {
    for (const [name, durable] of [
      ['durable', 'true'],
      ['not durable', 'false'],
    ] as const) {
      const bench = await startBenchServer({ ...env, PARLEY_DURABLE: durable });
      targets.push({ name, bench, f: await fixture(bench, chats) });
    }
    const [on, off] = targets as [Target, Target];
    const baselines: number[] = [];
    const rounds = new Map<string, Round[]>();
    for (let round = 0; round < ROUNDS; round++) {
      baselines.push((await baseline())['req/s']);
      for (const scenario of scenarios) {
        for (const t of round % 2 === 0 ? [on, off] : [off, on]) {
          const key = `${scenario.name}/${t.name}`;
          rounds.set(key, [...(rounds.get(key) ?? []), await load(t, scenario)]);
          console.error(`round ${round + 1}/${ROUNDS}: ${key} done`);
        }
      }
    }
    const base = median(baselines);
    const of = (scenario: Scenario, t: Target, key: keyof Round) =>
      median(rounds.get(`${scenario.name}/${t.name}`)!.map((r) => r[key]));
    // Each round's two servers ran back to back: their ratio cancels most of what the machine's drift does to both.
    const ratios = (scenario: Scenario) => {
      const durable = rounds.get(`${scenario.name}/${on.name}`)!;
      const not = rounds.get(`${scenario.name}/${off.name}`)!;
      return durable.map((r, i) => r.rps / not[i]!.rps);
    };
    const list = (scenario: Scenario, t: Target) =>
      rounds
        .get(`${scenario.name}/${t.name}`)!
        .map((r) => Math.round(r.rps))
        .join(' ');
    const rows: Record<string, string | number>[] = [
      {
        scenario: 'baseline: Fastify hello route',
        'req/s durable': Math.round(base),
        'req/s not durable': Math.round(base),
        'durable ÷ not, per round': '',
        'median ratio': '',
        '× baseline durable / not': '1.00 / 1.00',
        'rounds durable': baselines.map(Math.round).join(' '),
        'rounds not durable': '',
        'p99 ms': '',
        'CPU µs/req': '',
        'sends/batch': '',
        errors: '',
      },
    ];
    for (const scenario of scenarios) {
      const rpsOn = of(scenario, on, 'rps');
      const rpsOff = of(scenario, off, 'rps');
      rows.push({
        scenario: scenario.name.replace('1000', String(on.f.chats.length)),
        'req/s durable': Math.round(rpsOn),
        'req/s not durable': Math.round(rpsOff),
        'durable ÷ not, per round': ratios(scenario)
          .map((r) => r.toFixed(2))
          .join(' '),
        'median ratio': median(ratios(scenario)).toFixed(2),
        '× baseline durable / not': `${(rpsOn / base).toFixed(3)} / ${(rpsOff / base).toFixed(3)}`,
        'rounds durable': list(scenario, on),
        'rounds not durable': list(scenario, off),
        'p99 ms': `${of(scenario, on, 'p99')} / ${of(scenario, off, 'p99')}`,
        'CPU µs/req': `${of(scenario, on, 'cpuMicros').toFixed(0)} / ${of(scenario, off, 'cpuMicros').toFixed(0)}`,
        'sends/batch': `${of(scenario, on, 'batch').toFixed(1)} / ${of(scenario, off, 'batch').toFixed(1)}`,
        errors: [on, off].reduce(
          (sum, t) => sum + rounds.get(`${scenario.name}/${t.name}`)!.reduce((s, r) => s + r.errors, 0),
          0,
        ),
      });
    }
    console.log(
      `\nPGlite sends, PARLEY_DURABLE=true vs false, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS} s ` +
        `per server and scenario, alternating; medians (${machine()}); pairs are durable / not durable`,
    );
    table(rows);
  } finally {
    await Promise.all(targets.map((t) => t.bench.stop()));
  }
}
