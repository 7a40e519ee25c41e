import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from './support/app.ts';
import { createGroup, sendMessages } from './support/factories.ts';

describe('smoke', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => {
    await t.close();
  });

  it('sends and reads messages', async () => {
    const alice = await t.login('alice');
    const bob = await t.login('bob');
    const chat = await createGroup(alice, [bob]);
    await sendMessages(alice, chat.id, 3);
    const page = await bob.get(`/v1/chats/${chat.id}/messages`);
    assert.equal(page.status, 200);
    assert.deepEqual(
      page.body.data.map((m) => m.seq),
      [1, 2, 3],
    );
  });
});
