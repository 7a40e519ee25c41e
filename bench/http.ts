import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import autocannon, { type Request } from 'autocannon';
import {
  api,
  machine,
  pool,
  processCpuMeter,
  rssMiB,
  startBenchServer,
  table,
  type BenchServer,
} from './harness.ts';

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
/** BENCH_ONLY=<regular expression>: only the rows whose scenario matches it (and the baseline). */
const ONLY = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY, 'i') : null;

export interface Row extends Record<string, string | number> {
  scenario: string;
  'req/s': number;
  'p50 ms': number;
  'p99 ms': number;
  'max ms': number;
  errors: number;
  'non-2xx': string;
  'server µs/req': number;
  'database µs/req': number | string;
  'RSS MiB': number;
}

/**
 * One row: autocannon against `url`, and the CPU time the server process (and, on PostgreSQL, the backends serving
 * it) spent per request meanwhile, which a busy neighbour on the machine disturbs far less than throughput.
 */
export async function load(
  name: string,
  url: string,
  request: () => Request,
  pid: number,
): Promise<Row | null> {
  if (ONLY && !ONLY.test(name) && !name.startsWith('baseline')) {
    return null;
  }
  const meter = processCpuMeter(pid);
  const setupRequest = (req: Request) => ({ ...req, ...request() });
  // A second of warm-up opens the pool's connections, whose backends the meter then finds.
  await autocannon({ url, connections: CONNECTIONS, duration: 1, requests: [{ setupRequest }] });
  const backends = await meter.backends();
  const spent = meter.start();
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION,
    requests: [{ setupRequest }],
  });
  const cpu = spent();
  const requests = Math.max(1, result.requests.total);
  return {
    scenario: name,
    'req/s': Math.round(result.requests.average),
    'p50 ms': result.latency.p50,
    'p99 ms': result.latency.p99,
    'max ms': result.latency.max,
    errors: result.errors + result.non2xx + result.timeouts,
    'non-2xx': Object.entries(result.statusCodeStats ?? {})
      .filter(([code]) => !code.startsWith('2'))
      .map(([code, stat]) => `${code}×${stat.count}`)
      .join(' '),
    'server µs/req': Math.round((cpu.server * 1e6) / requests),
    'database µs/req': backends > 0 ? Math.round((cpu.database * 1e6) / requests) : '–',
    'RSS MiB': rssMiB(pid),
  };
}

/** The yardstick: a bare Fastify route with schema validation in its own process, measured the same way. */
export async function baseline(): Promise<Row> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'hello-server.ts')],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const url = line.toString().trim();
  try {
    return (await load(
      'baseline: Fastify hello route',
      url,
      () => ({
        method: 'POST',
        path: '/hello',
        body: '{"name":"parley"}',
        headers: { 'content-type': 'application/json' },
      }),
      child.pid!,
    ))!;
  } finally {
    child.kill('SIGTERM');
  }
}

export interface Fixture {
  token: string;
  /** In every chat, like the sender; everything the load sends is unread for it. */
  otherToken: string;
  /** In the first READER_CHATS chats only: a user of ordinary size. */
  readerToken: string;
  chats: string[];
  hot: string;
}

const READER_CHATS = 50;

/**
 * One user in CHATS chats with another member; the other member writes a few messages into each. A third user, the
 * reader, is in the first READER_CHATS of them.
 */
export async function fixture(bench: BenchServer, chatCount: number): Promise<Fixture> {
  const base = bench.server.url;
  const token = await bench.token('bench-user');
  const other = await bench.token('bench-other');
  const reader = await bench.token('bench-reader');
  for (const t of [token, other, reader]) {
    await api(base, t, 'GET', '/v1/me');
  }
  const chats: string[] = [];
  await pool(
    Array.from({ length: chatCount }, (_, i) => i),
    20,
    async (i) => {
      const chat = await api(base, token, 'POST', '/v1/chats', {
        kind: 'group',
        name: `bench ${i}`,
        members: i < READER_CHATS ? ['bench-other', 'bench-reader'] : ['bench-other'],
      });
      chats.push(chat.id);
      for (let m = 0; m < 3; m++) {
        await api(base, other, 'POST', `/v1/chats/${chat.id}/messages`, { text: `hello ${m}` });
      }
    },
  );
  const hot = chats[0]!;
  await pool(
    Array.from({ length: 500 }, (_, i) => i),
    20,
    async (i) => {
      await api(base, other, 'POST', `/v1/chats/${hot}/messages`, { text: `history ${i}` });
    },
  );
  return { token, otherToken: other, readerToken: reader, chats, hot };
}

export async function http(): Promise<void> {
  const measured: (Row | null)[] = [await baseline()];
  const rows = {
    push: (row: Row | null) => measured.push(row),
  };
  const chatCount = Number(process.env.BENCH_CHATS ?? 1000);
  // Both fixture users are in every chat: however many BENCH_CHATS asks for.
  // BENCH_WORKERS=N: `parley serve --workers N` (PostgreSQL only); the CPU columns count every worker.
  const workers = process.env.BENCH_WORKERS;
  const bench = await startBenchServer({
    PARLEY_MAX_CHATS_PER_USER: String(Math.max(1, chatCount)),
    ...(workers ? { PARLEY_WORKERS: workers } : {}),
  });
  try {
    const url = bench.server.url;
    const pid = bench.server.child.pid!;
    const f = await fixture(bench, chatCount);
    await bench.analyze();
    const auth = { authorization: `Bearer ${f.token}` };
    const json = { ...auth, 'content-type': 'application/json' };
    const get = (p: string) => (): Request => ({ method: 'GET', path: p, headers: auth });
    let n = 0;
    const send = (chat: () => string) => (): Request => ({
      method: 'POST',
      path: `/v1/chats/${chat()}/messages`,
      body: JSON.stringify({ text: `load ${++n}` }),
      headers: json,
    });
    rows.push(
      await load(
        `send over ${f.chats.length} chats`,
        url,
        send(() => f.chats[n % f.chats.length]!),
        pid,
      ),
    );
    rows.push(
      await load(
        'send into one hot chat',
        url,
        send(() => f.hot),
        pid,
      ),
    );
    const as = (token: string, p: string) => (): Request => ({
      method: 'GET',
      path: p,
      headers: { authorization: `Bearer ${token}` },
    });
    rows.push(await load('history page (50)', url, get(`/v1/chats/${f.hot}/messages?limit=50`), pid));
    // The same page while the chat is busy: every 10th request a send into it, so the page keeps changing and
    // the history cache has to read it again after each (the row counts sends and reads together).
    let mixed = 0;
    const busyHistory = get(`/v1/chats/${f.hot}/messages?limit=50`);
    const busySend = send(() => f.hot);
    rows.push(
      await load(
        'history page (50), 1 send in 10 requests',
        url,
        () => (++mixed % 10 === 0 ? busySend() : busyHistory()),
        pid,
      ),
    );
    rows.push(
      await load(
        `chat list (50), user in ${READER_CHATS} chats`,
        url,
        as(f.readerToken, '/v1/chats?limit=50'),
        pid,
      ),
    );
    rows.push(
      await load(`chat list (50), user in ${f.chats.length} chats`, url, get('/v1/chats?limit=50'), pid),
    );
    rows.push(
      await load(`unread summary, user in ${READER_CHATS} chats`, url, as(f.readerToken, '/v1/unread'), pid),
    );
    rows.push(
      await load(`unread summary, user in ${f.chats.length} chats`, url, as(f.otherToken, '/v1/unread'), pid),
    );
    const shown = measured.filter((r): r is Row => r !== null);
    const reference = shown[0]!['req/s'];
    console.log(
      `\nHTTP on ${bench.engine}${workers ? ` with ${workers} workers` : ''}, ${CONNECTIONS} connections, ` +
        `${DURATION} s each (${machine()}); ` +
        `"× baseline" = req/s ÷ the Fastify hello route's`,
    );
    table(shown.map((r) => ({ ...r, '× baseline': (r['req/s'] / reference).toFixed(2) })));
    console.log(await searchIndexing(url));
  } finally {
    await bench.stop();
  }
}

/**
 * How far behind search indexing ran during the rows (the server's `/metrics`, answered to loopback): how many
 * background passes and messages, and how long the oldest message of a pass had waited.
 */
async function searchIndexing(url: string): Promise<string> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? NaN);
  const passes = value(/^parley_search_index_delay_seconds_count (\S+)$/m);
  const messages = value(/^parley_search_indexed_total (\S+)$/m);
  const sum = value(/^parley_search_index_delay_seconds_sum (\S+)$/m);
  if (!(passes > 0)) {
    return 'Search indexing: no background pass (no sends measured, or metrics off).';
  }
  const within = (le: string) =>
    value(new RegExp(`^parley_search_index_delay_seconds_bucket\\{le="${le}"\\} (\\S+)$`, 'm'));
  const share = (le: string) => `${((100 * within(le)) / passes).toFixed(1)}%`;
  return (
    `Search indexing (off the send path): ${passes.toLocaleString('en')} background passes indexed ` +
    `${messages.toLocaleString('en')} messages; the oldest message of a pass had waited ` +
    `${((1000 * sum) / passes).toFixed(0)} ms on average, ≤ 0.1 s in ${share('0.1')} of passes, ` +
    `≤ 0.25 s in ${share('0.25')}, ≤ 1 s in ${share('1')}.`
  );
}
