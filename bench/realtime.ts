import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { WebSocket } from 'ws';
import { api, cpuSeconds, machine, percentile, pool, startBenchServer, table } from './harness.ts';

/** What the frames of one row are matched against: the send time of each message, by its text. */
interface Round {
  sentAt: Map<string, number>;
  latencies: number[];
  received: number;
  expected: number;
  done: () => void;
}

let round: Round | null = null;
/** The first message.created a socket received: the baseline broadcasts frames of its shape and size. */
let sample: any = null;

function onFrame(frame: any): void {
  if (frame.type !== 'message.created') {
    return;
  }
  sample ??= frame;
  const current = round;
  const at = current?.sentAt.get(frame.message.text);
  if (!current || at === undefined) {
    return;
  }
  current.latencies.push(performance.now() - at);
  current.received += 1;
  if (current.received === current.expected) {
    current.done();
  }
}

/** One client socket, Parley's or the baseline's: every frame is parsed, as a client would. */
function connect(url: string, token?: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    socket.once('error', reject);
    // Refused or closed before `ready` (a limit, a database deadline under load): the run must not wait forever.
    socket.once('close', (code, reason) =>
      reject(new Error(`socket closed before ready: ${code} ${reason}`)),
    );
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.type === 'ready') {
        resolve(socket);
      }
      onFrame(frame);
    });
  });
}

interface Target {
  label: string;
  pid: number;
  /** Sends the message whose text is `text`; resolves when the server answered. */
  send(text: string): Promise<unknown>;
}

/**
 * Sends `messages` messages at `rate` a second (on a fixed schedule, not one after the other) and waits for every
 * socket to receive each; a delivery's latency runs from its send leaving to its frame's arrival.
 */
async function measure(target: Target, name: string, sockets: number, messages: number, rate: number) {
  const current: Round = {
    sentAt: new Map(),
    latencies: [],
    received: 0,
    expected: sockets * messages,
    done: () => {},
  };
  const all = new Promise<void>((resolve) => {
    current.done = resolve;
  });
  round = current;
  const cpuBefore = cpuSeconds(target.pid);
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  const sends: Promise<unknown>[] = [];
  /** How long each send took to be answered: the part of a delivery's latency before the fan-out. */
  const answered: number[] = [];
  for (let i = 0; i < messages; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) {
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const text = `${name} ${i}`;
    const at = performance.now();
    current.sentAt.set(text, at);
    sends.push(target.send(text).then(() => answered.push(performance.now() - at)));
  }
  const settled = await Promise.allSettled(sends);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([all, new Promise<void>((resolve) => (timer = setTimeout(resolve, 30_000)))]);
  clearTimeout(timer);
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(target.pid) - cpuBefore;
  const client = process.cpuUsage(clientBefore);
  round = null;
  const latencies = current.latencies.sort((a, b) => a - b);
  return {
    server: target.label,
    'msg/s': rate,
    deliveries: `${current.received}/${current.expected}`,
    'failed sends': settled.filter((s) => s.status === 'rejected').length,
    'deliveries/s': Math.round(current.received / seconds),
    'send p50/p99 ms': `${percentile(
      answered.sort((a, b) => a - b),
      50,
    ).toFixed(1)}/${percentile(answered, 99).toFixed(1)}`,
    'p50 ms': percentile(latencies, 50).toFixed(1),
    'p99 ms': percentile(latencies, 99).toFixed(1),
    'max ms': (latencies.at(-1) ?? Number.NaN).toFixed(1),
    'server CPU µs/delivery': ((cpu * 1e6) / Math.max(1, current.received)).toFixed(1),
    'client CPU s': ((client.user + client.system) / 1e6).toFixed(1),
  };
}

/** The baseline: a plain `ws` server in its own process (ws-broadcast-server.ts), with as many clients. */
async function startBaseline(sockets: number) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'ws-broadcast-server.ts')],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const base = line.toString().trim();
  const open: WebSocket[] = [];
  await pool(Array.from({ length: sockets }), 100, async () => {
    open.push(await connect(base.replace(/^http/, 'ws')));
  });
  const target: Target = {
    label: 'baseline: plain ws broadcast',
    pid: child.pid!,
    send: async (text) => {
      const response = await fetch(`${base}/broadcast`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...sample, message: { ...sample.message, text } }),
      });
      if (response.status !== 204) {
        throw new Error(`broadcast: ${response.status}`);
      }
    },
  };
  return {
    target,
    stop() {
      for (const socket of open) {
        socket.terminate();
      }
      child.kill('SIGTERM');
    },
  };
}

/**
 * Fan-out: N sockets in one group, one sender sends M messages at FANOUT_RATE a second; each delivery's latency is
 * measured from the moment the send request left to the frame's arrival on the receiving socket (same clock: one
 * process). The baseline, a plain `ws` server broadcasting frames of the same size to as many sockets of the same
 * client, is measured in the same run, in alternating rounds (FANOUT_ROUNDS).
 */
export async function fanout(
  sockets = Number(process.env.FANOUT_SOCKETS ?? 1000),
  messages = Number(process.env.FANOUT_MESSAGES ?? 300),
  rate = Number(process.env.FANOUT_RATE ?? 100),
  rounds = Number(process.env.FANOUT_ROUNDS ?? 2),
) {
  // One group holds the sender and every socket's user, however many FANOUT_SOCKETS asks for.
  const bench = await startBenchServer({
    PARLEY_RESUME_GRACE_MS: '0',
    PARLEY_MAX_CHAT_MEMBERS: String(Math.max(2, sockets + 1)),
  });
  const base = bench.server.url;
  let baseline: Awaited<ReturnType<typeof startBaseline>> | null = null;
  const open: WebSocket[] = [];
  try {
    const users = Array.from({ length: sockets }, (_, i) => `fan-${i}`);
    const tokens = await Promise.all(users.map((u) => bench.token(u)));
    const sender = await bench.token('fan-sender');
    await api(base, sender, 'GET', '/v1/me');
    await pool(tokens, 50, async (token) => {
      await api(base, token, 'GET', '/v1/me');
    });
    const chat = await api(base, sender, 'POST', '/v1/chats', {
      kind: 'group',
      name: 'fan-out',
      members: users.slice(0, 999),
    });
    for (let i = 999; i < users.length; i += 1) {
      await api(base, sender, 'POST', `/v1/chats/${chat.id}/members`, { userId: users[i] });
    }
    const rssIdle = bench.rssMiB();
    const url = `${base.replace(/^http/, 'ws')}/v1/stream`;
    await pool(tokens, 100, async (token) => {
      open.push(await connect(url, token));
    });
    const rssConnected = bench.rssMiB();
    const parley: Target = {
      label: `Parley (${bench.engine}, bus ${bench.config.bus.kind})`,
      pid: bench.server.child.pid!,
      send: (text) => api(base, sender, 'POST', `/v1/chats/${chat.id}/messages`, { text }),
    };
    // Warm-up: the JIT, the pools, and the sample frame the baseline copies.
    await measure(parley, 'warm-up', sockets, Math.min(50, messages), rate);
    if (!sample) {
      throw new Error('fan-out: no message.created arrived during the warm-up');
    }
    baseline = await startBaseline(sockets);
    await measure(baseline.target, 'warm-up', sockets, Math.min(50, messages), rate);
    const rows = [];
    for (let r = 1; r <= rounds; r++) {
      rows.push({ round: r, ...(await measure(baseline.target, `base-${r}`, sockets, messages, rate)) });
      rows.push({ round: r, ...(await measure(parley, `parley-${r}`, sockets, messages, rate)) });
    }
    const rssAfter = bench.rssMiB();
    console.log(
      `\nfan-out to ${sockets} sockets, ${messages} messages at ${rate}/s per row (${machine()}); ` +
        `Parley's RSS idle/connected/after: ${rssIdle}/${rssConnected}/${rssAfter} MiB`,
    );
    table(rows);
  } finally {
    for (const socket of open) {
      socket.terminate();
    }
    baseline?.stop();
    await bench.stop();
  }
}

/**
 * Connections: how much memory one idle socket costs the server, measured over K sockets (five per user). With
 * IDLE_CHATS, each user is in that many group chats of 100 members, and each of its sockets follows them all.
 */
export async function connections(
  count = Number(process.env.IDLE_SOCKETS ?? 10_000),
  chats = Number(process.env.IDLE_CHATS ?? 0),
) {
  const bench = await startBenchServer();
  const base = bench.server.url;
  try {
    const users = Array.from({ length: Math.ceil(count / 5) }, (_, i) => `idle-${i}`);
    const tokens = await Promise.all(users.map((u) => bench.token(u)));
    await pool(tokens, 50, async (token) => {
      await api(base, token, 'GET', '/v1/me');
    });
    const blocks = Array.from({ length: Math.ceil(users.length / 100) }, (_, b) => b * 100);
    await pool(
      Array.from({ length: chats }).flatMap((_, k) => blocks.map((start) => ({ k, start }))),
      10,
      async ({ k, start }) => {
        await api(base, tokens[start]!, 'POST', '/v1/chats', {
          kind: 'group',
          name: `idle ${k} ${start}`,
          members: users.slice(start + 1, start + 100),
        });
      },
    );
    const before = bench.rssMiB();
    const open: WebSocket[] = [];
    const started = performance.now();
    await pool(
      Array.from({ length: count }, (_, i) => tokens[i % tokens.length]!),
      200,
      async (token) => {
        open.push(await connect(`${base.replace(/^http/, 'ws')}/v1/stream`, token));
      },
    );
    const seconds = (performance.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const afterRss = bench.rssMiB();
    for (const socket of open) {
      socket.terminate();
    }
    console.log(`\nidle connections on ${bench.engine} (${machine()})`);
    table([
      {
        sockets: open.length,
        'chats per socket': chats,
        'connects/s': Math.round(open.length / seconds),
        'RSS before MiB': before,
        'RSS after MiB': afterRss,
        'KiB per socket': (((afterRss - before) * 1024) / open.length).toFixed(1),
      },
    ]);
  } finally {
    await bench.stop();
  }
}
