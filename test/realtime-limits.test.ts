import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTestApp, ENGINE } from './support/app.ts';
import { createGroup } from './support/factories.ts';
import { StreamClient } from './support/ws.ts';

describe(`real-time limits and shutdown (${ENGINE})`, () => {
  it('closes a consumer that stops reading with 4008 instead of buffering for it', async () => {
    const t = await createTestApp({ PARLEY_WS_MAX_BUFFER: '1048576', PARLEY_RESUME_GRACE_MS: '0' });
    try {
      const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
      const alice = await t.login('slow-alice');
      const bob = await t.login('slow-bob');
      const chat = await createGroup(alice, [bob]);
      const slow = await StreamClient.connect(base, bob.token);
      const fast = await StreamClient.connect(base, alice.token);
      // Stop reading: the kernel buffers fill, then the server's queue for this socket grows past the bound.
      (slow.socket as unknown as { _socket: { pause(): void } })._socket.pause();
      const text = 'x'.repeat(9000);
      let sent = 0;
      while (sent < 2000 && slow.closeCode === null) {
        await Promise.all(
          Array.from({ length: 50 }, () => alice.post(`/v1/chats/${chat.id}/messages`, { text })),
        );
        sent += 50;
        // The other client keeps up: it has read everything sent so far before the next batch goes out.
        await fast.waitFor((f) => f.type === 'message.created', sent);
        if (t.app.parley.gateway.connectionCount < 2) {
          break;
        }
      }
      assert.equal(t.app.parley.gateway.connectionCount, 1, 'the slow connection was dropped server-side');
      (slow.socket as unknown as { _socket: { resume(): void } })._socket.resume();
      assert.equal(await slow.waitForClose(), 4008);
      assert.equal(fast.closeCode, null, 'a client that keeps up stays connected');
      await fast.close();
    } finally {
      await t.close();
    }
  });

  it('closes a socket that stops answering pings', async () => {
    const t = await createTestApp({ PARLEY_WS_HEARTBEAT_MS: '200' });
    try {
      const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
      const alice = await t.login('dead-alice');
      const alive = await StreamClient.connect(base, alice.token);
      const dead = await StreamClient.connect(base, alice.token);
      // A paused client reads nothing, so it never answers a ping: to the server it is a dead peer.
      (dead.socket as unknown as { _socket: { pause(): void } })._socket.pause();
      for (let waited = 0; t.app.parley.gateway.connectionCount > 1; waited += 50) {
        assert.ok(waited < 5000, 'the dead socket is closed within a few heartbeats');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(alive.closeCode, null, 'a socket that answers pings stays open');
      await alive.close();
    } finally {
      await t.close();
    }
  });

  it('says "going away" (1001) to every client when the server shuts down', async () => {
    const t = await createTestApp();
    const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const alice = await t.login('bye-alice');
    const stream = await StreamClient.connect(base, alice.token);
    await t.close();
    assert.equal(await stream.waitForClose(), 1001);
  });
});
