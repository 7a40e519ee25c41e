import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mintToken } from '../src/auth/token.ts';
import { api, machine, percentile, pool, startBenchServer, table } from './harness.ts';

/**
 * Webhook deliveries: BENCH_WEBHOOK_MESSAGES sends (default 5000) from BENCH_CONNECTIONS (50) clients over
 * BENCH_WEBHOOK_CHATS chats (100), with one subscription to `message.created` whose receiver (in this process)
 * answers 204 at once. Reports deliveries per second (from the first send to the last delivery) and each delivery's
 * delay from the message's commit time (`createdAt`) to its arrival at the receiver (one machine, one clock).
 */
export async function webhooks(
  messages = Number(process.env.BENCH_WEBHOOK_MESSAGES ?? 5000),
  connections = Number(process.env.BENCH_CONNECTIONS ?? 50),
  chats = Number(process.env.BENCH_WEBHOOK_CHATS ?? 100),
) {
  const delays: number[] = [];
  let lastAt = 0;
  let done: () => void = () => undefined;
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        data: { message: { createdAt: string } };
      };
      lastAt = performance.now();
      delays.push(Date.now() - Date.parse(body.data.message.createdAt));
      res.writeHead(204).end();
      if (delays.length === messages) {
        done();
      }
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const bench = await startBenchServer();
  const base = bench.server.url;
  try {
    const admin = await mintToken(bench.config.jwt, { sub: 'wh-admin', admin: true, ttlSeconds: 3600 });
    const sender = await bench.token('wh-sender');
    await api(base, admin, 'GET', '/v1/me');
    await api(base, sender, 'GET', '/v1/me');
    const chatIds: string[] = [];
    for (let i = 0; i < chats; i++) {
      chatIds.push((await api(base, sender, 'POST', '/v1/chats', { kind: 'group', name: `hooks ${i}` })).id);
    }
    const sendAll = async (prefix: string) => {
      const from = performance.now();
      await pool(
        Array.from({ length: messages }, (_, i) => i),
        connections,
        async (i) => {
          await api(base, sender, 'POST', `/v1/chats/${chatIds[i % chats]}/messages`, {
            text: `${prefix} ${i}`,
          });
        },
      );
      return (performance.now() - from) / 1000;
    };
    // The same sends without a subscription first: what a tenant without webhooks sends at.
    const baseline = await sendAll('plain');
    await api(base, admin, 'POST', '/v1/webhooks', { url, eventTypes: ['message.created'] });
    const started = performance.now();
    const sentIn = await sendAll('hook');
    await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 120_000))]);
    const seconds = (lastAt - started) / 1000;
    delays.sort((a, b) => a - b);
    console.log(`\nwebhook deliveries on ${bench.engine} (${machine()})`);
    table([
      {
        messages,
        chats,
        'sends/s without/with': `${Math.round(messages / baseline)}/${Math.round(messages / sentIn)}`,
        deliveries: `${delays.length}/${messages}`,
        'deliveries/s': Math.round(delays.length / seconds),
        'p50 delay ms': percentile(delays, 50).toFixed(0),
        'p99 delay ms': percentile(delays, 99).toFixed(0),
        'max delay ms': (delays.at(-1) ?? Number.NaN).toFixed(0),
      },
    ]);
  } finally {
    await bench.stop();
    receiver.closeAllConnections();
    receiver.close();
  }
}
