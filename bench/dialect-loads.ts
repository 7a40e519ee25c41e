import autocannon, { type Request } from 'autocannon';
import { mintToken } from '../src/auth/token.ts';
import { api, pool, type BenchServer } from './harness.ts';

/**
 * The rows of the dialects benchmark (`bench/dialects.ts`): each one's fixture (users, chats, the messages a list
 * reads) made through the API it measures, and the request it repeats.
 */

/** Messages in the chat that the SourceLoop list and count read (the newest 50 of them). */
export const HISTORY = Number(process.env.BENCH_HISTORY ?? 3000);
/** Messages in the chats that return their whole history (Avito, DRF) or one page (Instabug). */
const PAGE = 50;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

export const NATIVE_SEND = 'native: send';
export const NATIVE_HISTORY = `native: history page (50) of ${HISTORY}`;

/** One row: what a request is, and which native row its CPU is compared with. */
export interface Load {
  name: string;
  /** The native row this one is the dialect's equivalent of. */
  native?: string;
  /** Origin and path prefix: `http://127.0.0.1:3000/sourceloop`. */
  base: string;
  request: () => Pick<Request, 'method' | 'path' | 'body' | 'headers'>;
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

/** `seconds` of `load` from CONNECTIONS connections. */
export async function run(load: Load, seconds: number) {
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

export async function nativeAndSourceLoop(bench: BenchServer): Promise<Load[]> {
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
  return [
    {
      name: NATIVE_SEND,
      base,
      request: () => post(`/v1/chats/${send}/messages`, { text: `native ${++n}` }, auth),
    },
    { name: NATIVE_HISTORY, base, request: () => get(`/v1/chats/${read}/messages?limit=50`, auth) },
    ...sourceloopLoads(
      'SourceLoop',
      `${base}${bench.config.sourceloopBasePath}`,
      { authorization: `Bearer ${slToken}` },
      { send, read },
      { send: NATIVE_SEND, history: NATIVE_HISTORY },
    ),
  ];
}

export async function avito(base: string): Promise<Load[]> {
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
      native: NATIVE_SEND,
      base,
      request: () => post('/messages/add', { chat: send, author: a, text: `avito ${++n}` }),
    },
    {
      name: `Avito: POST /messages/get (${PAGE} messages)`,
      native: NATIVE_HISTORY,
      base,
      request: () => post('/messages/get', { chat: read }),
    },
  ];
}

export async function drf(base: string): Promise<Load[]> {
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
      native: NATIVE_SEND,
      base,
      request: () => post(`/chat/group/${send}/`, { from: a, text: `drf ${++n}` }),
    },
    {
      name: `DRF: GET /chat/messages/<id>/ (${PAGE} messages)`,
      native: NATIVE_HISTORY,
      base,
      request: () => get(`/chat/messages/${read}/?user_id=${a}`),
    },
  ];
}

export async function instabug(base: string): Promise<Load[]> {
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
      native: NATIVE_SEND,
      base,
      request: () =>
        post(`/api/applications/${token}/chats/${send}/messages`, { message_content: `instabug ${++n}` }),
    },
    {
      name: `Instabug: GET .../chats/<n>/messages?per_page=${PAGE}`,
      native: NATIVE_HISTORY,
      base,
      request: () => get(`/api/applications/${token}/chats/${read}/messages?per_page=${PAGE}`),
    },
  ];
}
