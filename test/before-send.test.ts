import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { verify } from '../src/webhooks/webhook.signature.ts';
import { createTestApp, ENGINE, type Client, type TestApp } from './support/app.ts';
import { assertError } from './support/assertions.ts';
import { createGroup } from './support/factories.ts';

/** The synchronous "before send" hook (docs/webhooks.md) against a real backend this test starts. */

const SECRET = 'before-send-secret-0123456789';
const TIMEOUT_MS = 300;

interface Backend {
  url: string;
  seen: { headers: IncomingHttpHeaders; raw: string }[];
  answer: (body: { text: string }) => { status: number; body?: unknown; delayMs?: number };
  close(): Promise<void>;
}

async function backend(): Promise<Backend> {
  const state: Backend = {
    url: '',
    seen: [],
    answer: () => ({ status: 204 }),
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      state.seen.push({ headers: req.headers, raw });
      const { status, body, delayMs = 0 } = state.answer(JSON.parse(raw) as { text: string });
      setTimeout(() => {
        if (res.destroyed) {
          return;
        }
        res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
        res.end(body === undefined ? undefined : JSON.stringify(body));
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/before-send`;
  state.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return state;
}

for (const onFailure of ['allow', 'refuse'] as const) {
  describe(`before-send hook, ${onFailure} on failure (${ENGINE})`, () => {
    let t: TestApp;
    let hook: Backend;
    let alice: Client;
    let chatId: string;

    before(async () => {
      hook = await backend();
      t = await createTestApp({
        PARLEY_BEFORE_SEND_URL: hook.url,
        PARLEY_BEFORE_SEND_SECRET: SECRET,
        PARLEY_BEFORE_SEND_TIMEOUT_MS: String(TIMEOUT_MS),
        PARLEY_BEFORE_SEND_ON_FAILURE: onFailure,
      });
      alice = await t.login('bs-alice');
      chatId = (await createGroup(alice)).id;
    });
    after(async () => {
      await t.close();
      await hook.close();
    });

    const send = (text: string) => alice.post(`/v1/chats/${chatId}/messages`, { text });

    it('sees each send, signed; lets it through, rewrites it or rejects it', async () => {
      hook.answer = () => ({ status: 200, body: { action: 'allow' } });
      const allowed = await send('hello');
      assert.equal(allowed.status, 201);
      assert.equal(allowed.body.text, 'hello');
      const seen = hook.seen.at(-1)!;
      const header = {
        signature: seen.headers['parley-webhook-signature'] as string,
        timestamp: seen.headers['parley-webhook-timestamp'] as string,
      };
      assert.ok(verify(SECRET, header, seen.raw));
      assert.deepEqual(JSON.parse(seen.raw), {
        type: 'message.before_send',
        tenantId: 'default',
        chatId,
        authorId: alice.userId,
        text: 'hello',
        clientId: null,
        replyTo: null,
        threadRoot: null,
      });

      hook.answer = (body) => ({
        status: 200,
        body: { action: 'rewrite', text: body.text.replace('darn', '****') },
      });
      const rewritten = await send('oh darn');
      assert.equal(rewritten.status, 201);
      assert.equal(rewritten.body.text, 'oh ****');

      hook.answer = () => ({ status: 200, body: { action: 'reject', reason: 'spam' } });
      const rejected = await send('buy now');
      assertError(rejected, 403, 'forbidden');
      const history = await alice.get(`/v1/chats/${chatId}/messages`);
      assert.deepEqual(
        history.body.data.map((m) => m.text),
        ['hello', 'oh ****'],
      );
    });

    it(`a slow, failing or absent backend: the send is ${onFailure === 'allow' ? 'written unchanged' : 'refused (503)'}`, async () => {
      const before = (await alice.get(`/v1/chats/${chatId}/messages`)).body.data.length;
      const cases: [string, Backend['answer'] | null][] = [
        [
          'slow',
          () => ({ status: 200, body: { action: 'reject', reason: 'too late' }, delayMs: TIMEOUT_MS * 4 }),
        ],
        ['failing', () => ({ status: 500 })],
        ['nonsense', () => ({ status: 200, body: { action: 'maybe' } })],
        ['down', null],
      ];
      let written = 0;
      for (const [name, answer] of cases) {
        if (answer === null) {
          await hook.close();
        } else {
          hook.answer = answer;
        }
        const started = Date.now();
        const res = await send(`while ${name}`);
        assert.ok(Date.now() - started < TIMEOUT_MS * 3, `${name}: answered within the timeout`);
        if (onFailure === 'allow') {
          assert.equal(res.status, 201, `${name}: ${JSON.stringify(res.body)}`);
          assert.equal(res.body.text, `while ${name}`);
          written += 1;
        } else {
          assertError(res, 503, 'unavailable');
        }
      }
      const afterwards = (await alice.get(`/v1/chats/${chatId}/messages`)).body.data.length;
      assert.equal(afterwards - before, written);
    });
  });
}
