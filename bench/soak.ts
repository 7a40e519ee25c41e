import { WebSocket } from 'ws';
import { parsePrometheusText, sampleValue } from '../test/support/prometheus.ts';
import { api, machine, percentile, pool, startBenchServer, table, type BenchServer } from './harness.ts';

/** A number from the environment, kept within bounds. */
function setting(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw.trim() === '' ? fallback : Number(raw);
  if (!Number.isFinite(value)) {
    throw new Error(`${name}: must be a number, got "${raw}"`);
  }
  return Math.min(max, Math.max(min, value));
}

const MINUTES = setting('BENCH_SOAK_MINUTES', 2, 0.5, 60);
const SAMPLE_SECONDS = setting('BENCH_SOAK_SAMPLE_SECONDS', 5, 1, 60);
const WORKERS = Math.round(setting('BENCH_SOAK_WORKERS', 16, 1, 200));
const STREAMS = Math.round(setting('BENCH_SOAK_STREAMS', 6, 0, 500));
/** RSS growth from the middle third to the last third above which the run is flagged. */
const GROWTH_PERCENT = setting('BENCH_SOAK_GROWTH_PERCENT', 10, 0, 1000);
/** Stream clients hang up and reconnect this often, so that connection state is created and dropped all along. */
const RECONNECT_MS = 30_000;

const USERS = 20;
const CHATS = 30;

interface Interval {
  ok: number;
  errors: number;
  latencies: number[];
  frames: number;
}

const fresh = (): Interval => ({ ok: 0, errors: 0, latencies: [], frames: 0 });

interface Fixture {
  base: string;
  tokens: string[];
  /** Per user, the chats it is in. */
  chatsOf: string[][];
  /** The highest seq seen per chat (in send answers and history pages): what read cursors move to. */
  lastSeq: Map<string, number>;
}

async function fixture(bench: BenchServer): Promise<Fixture> {
  const base = bench.server.url;
  const users = Array.from({ length: USERS }, (_, i) => `soak-${i}`);
  const tokens = await Promise.all(users.map((u) => bench.token(u)));
  await pool(tokens, 10, async (token) => {
    await api(base, token, 'GET', '/v1/me');
  });
  const chatsOf: string[][] = users.map(() => []);
  await pool(
    Array.from({ length: CHATS }, (_, i) => i),
    5,
    async (i) => {
      const owner = i % USERS;
      const members = [1, 3, 7, 12].map((step) => (owner + step) % USERS);
      const chat = await api(base, tokens[owner]!, 'POST', '/v1/chats', {
        kind: 'group',
        name: `soak ${i}`,
        members: members.map((m) => users[m]),
      });
      for (const m of [owner, ...members]) {
        chatsOf[m]!.push(chat.id);
      }
      for (let n = 0; n < 10; n++) {
        await api(base, tokens[owner]!, 'POST', `/v1/chats/${chat.id}/messages`, { text: `warm ${n}` });
      }
    },
  );
  return { base, tokens, chatsOf, lastSeq: new Map() };
}

type Operation = 'send' | 'history' | 'chat list' | 'unread' | 'read';

/** What a worker does next: mostly sends and reads, as a chat client does. */
function pick(random: number): Operation {
  if (random < 0.4) {
    return 'send';
  }
  if (random < 0.65) {
    return 'history';
  }
  if (random < 0.8) {
    return 'chat list';
  }
  if (random < 0.9) {
    return 'unread';
  }
  return 'read';
}

async function operation(f: Fixture, op: Operation, n: number): Promise<number> {
  const user = n % USERS;
  const chats = f.chatsOf[user]!;
  const chat = chats[n % chats.length]!;
  const headers: Record<string, string> = { authorization: `Bearer ${f.tokens[user]}` };
  let method = 'GET';
  let path: string;
  let body: string | undefined;
  switch (op) {
    case 'send':
      method = 'POST';
      path = `/v1/chats/${chat}/messages`;
      body = JSON.stringify({ text: `soak message ${n}` });
      break;
    case 'history':
      path = `/v1/chats/${chat}/messages?limit=50`;
      break;
    case 'chat list':
      path = '/v1/chats?limit=50';
      break;
    case 'unread':
      path = '/v1/unread';
      break;
    case 'read':
      method = 'POST';
      path = `/v1/chats/${chat}/read`;
      body = JSON.stringify({ seq: f.lastSeq.get(chat) ?? 0 });
      break;
  }
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(`${f.base}${path}`, { method, headers, ...(body ? { body } : {}) });
  const text = await response.text();
  if (response.ok && (op === 'send' || op === 'history')) {
    const answer = JSON.parse(text) as { seq?: number; data?: { seq: number }[] };
    const seq = answer.seq ?? answer.data?.at(-1)?.seq ?? 0;
    if (seq > (f.lastSeq.get(chat) ?? 0)) {
      f.lastSeq.set(chat, seq);
    }
  }
  return response.status;
}

/** A stream client that counts frames and reconnects every RECONNECT_MS (WebSocket) or so (SSE). */
function streamClient(
  f: Fixture,
  user: number,
  transport: 'ws' | 'sse',
  count: () => void,
  until: number,
): Promise<void> {
  const token = f.tokens[user]!;
  const connectWs = () =>
    new Promise<void>((resolve) => {
      const socket = new WebSocket(`${f.base.replace(/^http/, 'ws')}/v1/stream`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const stop = setTimeout(() => socket.close(), Math.min(RECONNECT_MS, until - Date.now()));
      socket.on('message', () => count());
      socket.on('error', () => {});
      socket.on('close', () => {
        clearTimeout(stop);
        resolve();
      });
    });
  const connectSse = async () => {
    const abort = new AbortController();
    const stop = setTimeout(() => abort.abort(), Math.min(RECONNECT_MS, until - Date.now()));
    try {
      const response = await fetch(`${f.base}/v1/events`, {
        headers: { authorization: `Bearer ${token}` },
        signal: abort.signal,
      });
      const decoder = new TextDecoder();
      for await (const chunk of response.body!) {
        const frames = decoder.decode(chunk as Uint8Array, { stream: true }).match(/^data: /gm)?.length ?? 0;
        for (let i = 0; i < frames; i++) {
          count();
        }
      }
    } catch {
      // aborted: time to reconnect
    } finally {
      clearTimeout(stop);
    }
  };
  return (async () => {
    while (Date.now() < until - 1000) {
      await (transport === 'ws' ? connectWs() : connectSse());
    }
  })();
}

interface Sample {
  t: number;
  rps: number;
  errors: number;
  p99: number;
  framesPerSecond: number;
  rssMiB: number;
  heapMiB: number;
  streams: number;
}

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const average = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

/**
 * Soak: sends and reads (history, chat list, unread, read cursors) from WORKERS clients, plus STREAMS stream clients
 * (WebSocket and SSE, reconnecting every 30 s), for BENCH_SOAK_MINUTES. Every BENCH_SOAK_SAMPLE_SECONDS the server's
 * RSS and heap are read from its /metrics. RSS is called steady when the last third's average is within
 * BENCH_SOAK_GROWTH_PERCENT of the middle third's (the first third is warm-up).
 */
export async function soak(): Promise<void> {
  const bench = await startBenchServer({ PARLEY_RESUME_GRACE_MS: '0' });
  try {
    const f = await fixture(bench);
    const started = Date.now();
    const until = started + MINUTES * 60_000;
    let interval = fresh();
    const statuses = new Map<string, number>();
    const samples: Sample[] = [];
    let n = 0;

    const workers = Array.from({ length: WORKERS }, async () => {
      while (Date.now() < until) {
        const i = n++;
        const op = pick(Math.random());
        const at = performance.now();
        try {
          const status = await operation(f, op, i);
          if (status >= 400) {
            interval.errors += 1;
            statuses.set(`${op} ${status}`, (statuses.get(`${op} ${status}`) ?? 0) + 1);
          } else {
            interval.ok += 1;
          }
        } catch (error) {
          interval.errors += 1;
          const key = `${op} ${(error as Error).message}`;
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
        }
        interval.latencies.push(performance.now() - at);
      }
    });
    const streams = Array.from({ length: STREAMS }, (_, i) =>
      streamClient(f, i % USERS, i % 3 === 2 ? 'sse' : 'ws', () => (interval.frames += 1), until),
    );

    let last = Date.now();
    while (Date.now() < until) {
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(SAMPLE_SECONDS * 1000, until - Date.now())),
      );
      const done = interval;
      interval = fresh();
      const now = Date.now();
      const seconds = (now - last) / 1000;
      last = now;
      const res = await fetch(`${f.base}/metrics`);
      const families = parsePrometheusText(await res.text());
      done.latencies.sort((a, b) => a - b);
      samples.push({
        t: Math.round((now - started) / 1000),
        rps: Math.round((done.ok + done.errors) / seconds),
        errors: done.errors,
        p99: Math.round(percentile(done.latencies, 99)),
        framesPerSecond: Math.round(done.frames / seconds),
        rssMiB: mib(sampleValue(families, 'process_resident_memory_bytes')),
        heapMiB: mib(sampleValue(families, 'nodejs_heap_size_used_bytes')),
        streams: sampleValue(families, 'parley_stream_connections'),
      });
      const s = samples.at(-1)!;
      process.stderr.write(
        `soak ${s.t}s: ${s.rps} req/s, ${s.errors} errors, RSS ${s.rssMiB} MiB, heap ${s.heapMiB} MiB\n`,
      );
    }
    await Promise.all([...workers, ...streams]);

    const third = Math.floor(samples.length / 3);
    const phases = {
      first: samples.slice(0, third),
      middle: samples.slice(third, 2 * third),
      last: samples.slice(2 * third),
    };
    const growth = (key: 'rssMiB' | 'heapMiB') =>
      (average(phases.last.map((s) => s[key])) / average(phases.middle.map((s) => s[key])) - 1) * 100;
    const rssGrowth = growth('rssMiB');
    // Heap used swings with the collector; its lowest sample in a third is close to what is live after a collection.
    const floor = (phase: Sample[]) => Math.min(...phase.map((s) => s.heapMiB));
    const heapFloorGrowth = (floor(phases.last) / floor(phases.middle) - 1) * 100;
    const signed = (percent: number) => `${percent >= 0 ? '+' : ''}${percent.toFixed(1)}%`;
    const totalErrors = samples.reduce((a, s) => a + s.errors, 0);

    console.log(
      `\nsoak on ${bench.engine}, bus ${bench.config.bus.kind}: ${MINUTES} min, ${WORKERS} HTTP clients ` +
        `(40% send, 25% history, 15% chat list, 10% unread, 10% read cursor), ${STREAMS} stream clients ` +
        `reconnecting every ${RECONNECT_MS / 1000} s; a sample every ${SAMPLE_SECONDS} s (${machine()})`,
    );
    table(
      samples.map((s) => ({
        s: s.t,
        'req/s': s.rps,
        errors: s.errors,
        'p99 ms': s.p99,
        'frames/s': s.framesPerSecond,
        streams: s.streams,
        'RSS MiB': s.rssMiB,
        'heap MiB': s.heapMiB,
      })),
    );
    console.log('');
    table(
      Object.entries(phases).map(([name, phase]) => ({
        third: name,
        'req/s': Math.round(average(phase.map((s) => s.rps))),
        errors: phase.reduce((a, s) => a + s.errors, 0),
        'p99 ms (mean)': Math.round(average(phase.map((s) => s.p99))),
        'RSS MiB (mean)': average(phase.map((s) => s.rssMiB)).toFixed(1),
        'heap MiB (mean)': average(phase.map((s) => s.heapMiB)).toFixed(1),
        'heap MiB (lowest)': floor(phase).toFixed(1),
      })),
    );
    const steady = rssGrowth <= GROWTH_PERCENT;
    console.log(
      `\nRSS ${steady ? 'steady' : 'GROWING'}: last third ${signed(rssGrowth)} over the middle third (mean; ` +
        `threshold ${GROWTH_PERCENT}%); heap ${signed(growth('heapMiB'))} (mean), ${signed(heapFloorGrowth)} ` +
        `(lowest); ${n.toLocaleString('en')} requests, ${totalErrors} errors` +
        (statuses.size > 0 ? ` (${[...statuses].map(([k, v]) => `${k} ×${v}`).join(', ')})` : ''),
    );
    if (!steady) {
      process.exitCode = 1;
    }
  } finally {
    await bench.stop();
  }
}
