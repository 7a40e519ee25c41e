import { WebSocket } from 'ws';
import { api, machine, percentile, pool, startBenchServer, table } from './harness.ts';

function connect(base: string, token: string, onFrame?: (frame: any) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/v1/stream`, {
      headers: { authorization: `Bearer ${token}` },
    });
    socket.once('error', reject);
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.type === 'ready') {
        resolve(socket);
      }
      onFrame?.(frame);
    });
  });
}

/**
 * Fan-out: N sockets in one group, one sender sends M messages; each delivery's latency is measured from the
 * moment the send request left to the frame's arrival on the receiving socket (same clock: one process).
 */
export async function fanout(
  sockets = Number(process.env.FANOUT_SOCKETS ?? 1000),
  messages = Number(process.env.FANOUT_MESSAGES ?? 200),
) {
  // One group holds the sender and every socket's user, however many FANOUT_SOCKETS asks for.
  const bench = await startBenchServer({
    PARLEY_RESUME_GRACE_MS: '0',
    PARLEY_MAX_CHAT_MEMBERS: String(Math.max(2, sockets + 1)),
  });
  const base = bench.server.url;
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
    const sentAt = new Map<number, number>();
    const latencies: number[] = [];
    let received = 0;
    let done: () => void = () => {};
    const all = new Promise<void>((resolve) => {
      done = resolve;
    });
    const rssIdle = bench.rssMiB();
    const open: WebSocket[] = [];
    await pool(tokens, 100, async (token) => {
      open.push(
        await connect(base, token, (frame) => {
          if (frame.type === 'message.created') {
            const at = sentAt.get(frame.message.seq);
            if (at !== undefined) {
              latencies.push(performance.now() - at);
            }
            received += 1;
            if (received === sockets * messages) {
              done();
            }
          }
        }),
      );
    });
    const rssConnected = bench.rssMiB();
    const started = performance.now();
    let peakRss = rssConnected;
    for (let i = 1; i <= messages; i++) {
      sentAt.set(i, performance.now());
      await api(base, sender, 'POST', `/v1/chats/${chat.id}/messages`, { text: `fan-out ${i}` });
      if (i % 20 === 0) {
        peakRss = Math.max(peakRss, bench.rssMiB());
      }
    }
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 60_000));
    await Promise.race([all, timeout]);
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    for (const socket of open) {
      socket.terminate();
    }
    console.log(`\nfan-out on ${bench.engine}, bus ${bench.config.bus.kind} (${machine()})`);
    table([
      {
        sockets,
        messages,
        deliveries: `${received}/${sockets * messages}`,
        'deliveries/s': Math.round(received / seconds),
        'p50 ms': percentile(latencies, 50).toFixed(1),
        'p99 ms': percentile(latencies, 99).toFixed(1),
        'max ms': (latencies.at(-1) ?? Number.NaN).toFixed(1),
        'RSS idle/connected/peak MiB': `${rssIdle}/${rssConnected}/${peakRss}`,
      },
    ]);
  } finally {
    await bench.stop();
  }
}

/** Connections: how much memory one idle socket costs the server, measured over K sockets. */
export async function connections(count = Number(process.env.IDLE_SOCKETS ?? 5000)) {
  const bench = await startBenchServer();
  const base = bench.server.url;
  try {
    const users = Array.from({ length: Math.ceil(count / 5) }, (_, i) => `idle-${i}`);
    const tokens = await Promise.all(users.map((u) => bench.token(u)));
    await pool(tokens, 50, async (token) => {
      await api(base, token, 'GET', '/v1/me');
    });
    global.gc?.();
    const before = bench.rssMiB();
    const open: WebSocket[] = [];
    const started = performance.now();
    await pool(
      Array.from({ length: count }, (_, i) => tokens[i % tokens.length]!),
      200,
      async (token) => {
        open.push(await connect(base, token));
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
