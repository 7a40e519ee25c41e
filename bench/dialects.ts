import { existsSync } from 'node:fs';
import path from 'node:path';
import autocannon, { type Request } from 'autocannon';
import { mintToken } from '../src/auth/token.ts';
import { baseline } from './http.ts';
import {
  api,
  cpuMeter,
  machine,
  pool,
  startBenchServer,
  table,
  type BenchServer,
  type CpuMeter,
} from './harness.ts';

/**
 * The dialects' hot routes next to their native equivalents: each dialect's send and list/history (and SourceLoop's
 * count), against one Parley process, with the CPU each request costs the server and its database (the Parley
 * process, plus the PostgreSQL backends serving it). "× native" is that CPU over the native row's it stands for;
 * "× baseline" is req/s over the Fastify hello route of the same run.
 */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const WARMUP_SECONDS = 1;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
/** Messages in the chat that the SourceLoop list and count read (the newest 50 of them). */
const HISTORY = Number(process.env.BENCH_HISTORY ?? 3000);
/** Messages in the chats that return their whole history (Avito, DRF) or one page (Instabug). */
const PAGE = 50;

/** One row: what a request is, and which native row its CPU is compared with. */
interface Load {
  name: string;
  /** The native row this one is the dialect's equivalent of. */
  native?: string;
  /** Origin and path prefix: `http://127.0.0.1:3000/sourceloop`. */
  base: string;
  request: () => Pick<Request, 'method' | 'path' | 'body' | 'headers'>;
}

interface Measured extends Record<string, string | number> {
  scenario: string;
  'req/s': number;
  'p99 ms': number;
  'CPU ms/req': string;
  'of which db': string;
  errors: number;
}

const json = { 'content-type': 'application/json' };
const post = (p: string, body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST' as const,
  path: p,
  body: JSON.stringify(body),
  headers: { ...json, ...headers },
});
const get = (p: string, headers: Record<string, string> = {}) => ({
  method: 'GET' as const,
  path: p,
  headers,
});

async function run(load: Load, seconds: number) {
  const base = new URL(load.base);
  const prefix = base.pathname.replace(/\/$/, '');
  return autocannon({
    url: base.origin,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        setupRequest: (req: Request) => {
          const r = load.request();
          return { ...req, ...r, path: `${prefix}${r.path}` };
        },
      },
    ],
  });
}

/** The most database backends metered for a row (0 on PGlite, where the database is the Parley process). */
let metered = 0;

async function measure(load: Load, meter: CpuMeter | null): Promise<Measured & { cpu: number }> {
  await run(load, WARMUP_SECONDS);
  if (meter) {
    metered = Math.max(metered, await meter.backends());
  }
  const stop = meter?.start();
  const result = await run(load, SECONDS);
  const spent = stop?.();
  const per = (seconds: number) => (seconds * 1000) / Math.max(1, result.requests.total);
  const cpu = spent ? per(spent.server + spent.database) : Number.NaN;
  return {
    scenario: load.name,
    'req/s': Math.round(result.requests.average),
    'p99 ms': result.latency.p99,
    'CPU ms/req': Number.isNaN(cpu) ? '–' : cpu.toFixed(2),
    'of which db': spent && process.env.DATABASE_URL ? per(spent.database).toFixed(2) : '–',
    errors: result.errors + result.non2xx + result.timeouts,
    cpu,
  };
}

/**
 * SourceLoop's three hot routes at `base` (`http://host:port/sourceloop` on Parley, the original's root), as the
 * `headers` user, who belongs to both channels: a send into `sendChannel`, the 50 newest of `readChannel`, and its
 * count. The same rows run against the original service when it is available (`originalSourceLoop`).
 */
export function sourceloopLoads(
  label: string,
  base: string,
  headers: Record<string, string>,
  channels: { send: string; read: string },
  native: { send?: string; history?: string } = {},
): Load[] {
  let n = 0;
  const newest = JSON.stringify({
    where: { channelId: channels.read },
    order: ['createdOn DESC'],
    limit: 50,
  });
  const where = JSON.stringify({ channelId: channels.read });
  return [
    {
      name: `${label}: POST /messages`,
      native: native.send,
      base,
      request: () =>
        post('/messages', { channelId: channels.send, channelType: 'group', body: `sl ${++n}` }, headers),
    },
    {
      name: `${label}: GET /messages, 50 newest of ${HISTORY}`,
      native: native.history,
      base,
      request: () => get(`/messages?filter=${encodeURIComponent(newest)}`, headers),
    },
    {
      name: `${label}: GET /messages/count`,
      native: native.history,
      base,
      request: () => get(`/messages/count?where=${encodeURIComponent(where)}`, headers),
    },
  ];
}

/**
 * The published @sourceloop/chat-service booted beside Parley, when `test/support/sourceloop-original.ts` exists.
 * To wire it: boot it there, make a channel with HISTORY messages and one to send into, and return
 * `sourceloopLoads('original', <its base URL>, <its auth header>, <the channels>)` with its `stop`.
 */
async function originalSourceLoop(): Promise<{ loads: Load[]; stop(): Promise<void> } | null> {
  const module = path.join(import.meta.dirname, '..', 'test', 'support', 'sourceloop-original.ts');
  if (!existsSync(module)) {
    return null;
  }
  console.error('bench dialects: test/support/sourceloop-original.ts is present but not wired here yet');
  return null;
}

async function nativeAndSourceLoop(bench: BenchServer): Promise<Load[]> {
  const base = bench.server.url;
  const alice = await bench.token('bench-alice');
  const bob = await bench.token('bench-bob');
  await api(base, alice, 'GET', '/v1/me');
  await api(base, bob, 'GET', '/v1/me');
  const chat = async (name: string) =>
    (await api(base, alice, 'POST', '/v1/chats', { kind: 'group', name, members: ['bench-bob'] }))
      .id as string;
  const read = await chat('bench read');
  const send = await chat('bench send');
  await pool(
    Array.from({ length: HISTORY }, (_, i) => i),
    20,
    async (i) => {
      await api(base, bob, 'POST', `/v1/chats/${read}/messages`, { text: `history ${i}` });
    },
  );
  const auth = { authorization: `Bearer ${alice}` };
  const slToken = await mintToken(bench.config.jwt, {
    sub: 'bench-alice',
    ttlSeconds: 3600,
    permissions: ['ViewMessage', 'CreateMessage'],
  });
  let n = 0;
  const nativeSend = 'native: send';
  const nativeHistory = `native: history page (50) of ${HISTORY}`;
  return [
    {
      name: nativeSend,
      base,
      request: () => post(`/v1/chats/${send}/messages`, { text: `native ${++n}` }, auth),
    },
    { name: nativeHistory, base, request: () => get(`/v1/chats/${read}/messages?limit=50`, auth) },
    ...sourceloopLoads(
      'SourceLoop',
      `${base}${bench.config.sourceloopBasePath}`,
      { authorization: `Bearer ${slToken}` },
      { send, read },
      { send: nativeSend, history: nativeHistory },
    ),
  ];
}

async function avito(base: string): Promise<Load[]> {
  const user = async (username: string) =>
    (await api(base, '', 'POST', '/users/add', { username })).id as string;
  const [a, b] = [await user('bench-avito-a'), await user('bench-avito-b')];
  const chat = async (name: string) =>
    (await api(base, '', 'POST', '/chats/add', { name, users: [a, b] })).id as string;
  const [read, send] = [await chat('bench avito read'), await chat('bench avito send')];
  for (let i = 0; i < PAGE; i++) {
    await api(base, '', 'POST', '/messages/add', { chat: read, author: b, text: `history ${i}` });
  }
  let n = 0;
  return [
    {
      name: 'Avito: POST /messages/add',
      native: 'native: send',
      base,
      request: () => post('/messages/add', { chat: send, author: a, text: `avito ${++n}` }),
    },
    {
      name: `Avito: POST /messages/get (${PAGE} messages)`,
      native: `native: history page (50) of ${HISTORY}`,
      base,
      request: () => post('/messages/get', { chat: read }),
    },
  ];
}

async function drf(base: string): Promise<Load[]> {
  const user = async (username: string) =>
    (await api(base, '', 'POST', '/users/', { username, password: 'bench-secret', profile: {} })).id as
      number | string;
  const [a, b] = [await user('bench-drf-a'), await user('bench-drf-b')];
  const room = async (name: string) =>
    (
      await api(base, '', 'POST', '/chat/chatroom/', {
        room_name: name,
        room_member: [{ username: 'bench-drf-a' }, { username: 'bench-drf-b' }],
      })
    ).data.id as number;
  const [read, send] = [await room('bench drf read'), await room('bench drf send')];
  for (let i = 0; i < PAGE; i++) {
    await api(base, '', 'POST', `/chat/group/${read}/`, { from: b, text: `history ${i}` });
  }
  let n = 0;
  return [
    {
      name: 'DRF: POST /chat/group/<id>/',
      native: 'native: send',
      base,
      request: () => post(`/chat/group/${send}/`, { from: a, text: `drf ${++n}` }),
    },
    {
      name: `DRF: GET /chat/messages/<id>/ (${PAGE} messages)`,
      native: `native: history page (50) of ${HISTORY}`,
      base,
      request: () => get(`/chat/messages/${read}/?user_id=${a}`),
    },
  ];
}

async function instabug(base: string): Promise<Load[]> {
  const app = await api(base, '', 'POST', '/api/applications', { application_name: 'bench' });
  const token = app.application_token as string;
  const chat = async () =>
    (await api(base, '', 'POST', `/api/applications/${token}/chats`, { chat_name: 'bench' }))
      .chat_number as number;
  const [read, send] = [await chat(), await chat()];
  for (let i = 0; i < PAGE; i++) {
    await api(base, '', 'POST', `/api/applications/${token}/chats/${read}/messages`, {
      message_content: `history ${i}`,
    });
  }
  let n = 0;
  return [
    {
      name: 'Instabug: POST .../chats/<n>/messages',
      native: 'native: send',
      base,
      request: () =>
        post(`/api/applications/${token}/chats/${send}/messages`, { message_content: `instabug ${++n}` }),
    },
    {
      name: `Instabug: GET .../chats/<n>/messages?per_page=${PAGE}`,
      native: `native: history page (50) of ${HISTORY}`,
      base,
      request: () => get(`/api/applications/${token}/chats/${read}/messages?per_page=${PAGE}`),
    },
  ];
}

/** Which dialects to run: BENCH_DIALECTS=sourceloop,avito (default all four). */
function chosen(): string[] {
  const all = ['sourceloop', 'avito', 'drf', 'instabug'];
  const wanted = process.env.BENCH_DIALECTS?.split(',').map((s) => s.trim().toLowerCase());
  return wanted ? all.filter((d) => wanted.includes(d)) : all;
}

export async function dialects(): Promise<void> {
  const baselineRow = await baseline();
  const which = chosen();
  const bench = await startBenchServer({ DIALECTS: 'avito,drf,instabug,sourceloop' });
  const original = which.includes('sourceloop') ? await originalSourceLoop() : null;
  const rows: { measured: Measured & { cpu: number }; native: string | undefined }[] = [];
  try {
    const base = bench.server.url;
    const loads = await nativeAndSourceLoop(bench);
    const [nativeRows, slRows] = [loads.slice(0, 2), loads.slice(2)];
    if (which.includes('sourceloop')) {
      nativeRows.push(...slRows);
    }
    if (which.includes('avito')) {
      nativeRows.push(...(await avito(base)));
    }
    if (which.includes('drf')) {
      nativeRows.push(...(await drf(base)));
    }
    if (which.includes('instabug')) {
      nativeRows.push(...(await instabug(base)));
    }
    await bench.analyze();
    const meter = cpuMeter(bench);
    for (const load of nativeRows) {
      rows.push({ measured: await measure(load, meter), native: load.native });
    }
    for (const load of original?.loads ?? []) {
      // The original runs in processes of its own: its CPU is not metered here.
      rows.push({ measured: await measure(load, null), native: undefined });
    }
  } finally {
    await original?.stop();
    await bench.stop();
  }
  const reference = baselineRow['req/s'];
  const cpuOf = new Map(rows.map((r) => [r.measured.scenario, r.measured.cpu]));
  console.log(
    `\nDialects on ${bench.engine}, ${CONNECTIONS} connections, ${SECONDS} s each after ${WARMUP_SECONDS} s of ` +
      `warm-up (${machine()}); CPU = the Parley process and its ${metered} database backends, per request; ` +
      `"× native" = CPU ÷ the native row's; "× baseline" = req/s ÷ the Fastify hello route's (${reference} req/s)`,
  );
  table(
    rows.map(({ measured: { cpu, ...r }, native }) => {
      const nativeCpu = native ? cpuOf.get(native) : undefined;
      return {
        ...r,
        '× native': nativeCpu && !Number.isNaN(cpu) ? (cpu / nativeCpu).toFixed(2) : '–',
        '× baseline': (r['req/s'] / reference).toFixed(2),
      };
    }),
  );
}
