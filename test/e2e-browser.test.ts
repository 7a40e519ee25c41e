import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createTestApp, ENGINE, type TestApp } from './support/app.ts';
import { launchChromium, signIn as signInAs, skipWithoutChromium as skip } from './support/browser.ts';
const ARTIFACTS = path.resolve(import.meta.dirname, '..', 'test-results');

describe(`the demo page in headless Chromium (${ENGINE})`, { skip, timeout: 60_000 }, () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  const errors: string[] = [];

  before(async () => {
    t = await createTestApp();
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await t?.close();
  });

  /** A browser context of its own (its own storage: another person), signed in as `userId`. */
  function signIn(userId: string): Promise<Page> {
    return signInAs(browser, base, userId, errors);
  }

  it('two people chat live: typing, the unread badge, reading clears it, presence and search', async () => {
    const bob = await signIn('bob');
    const alice = await signIn('alice');

    // Alice opens a direct chat with Bob; it appears in Bob's list as it is created.
    await alice.getByRole('button', { name: 'New chat' }).click();
    await alice.getByLabel('Find people').fill('bob');
    await alice.locator('#user-picker input[value="bob"]').check();
    await alice.getByRole('button', { name: 'Create' }).click();
    await alice.locator('#chat-title', { hasText: 'bob' }).waitFor();
    await alice.locator('#chat-subtitle', { hasText: /^online$/ }).waitFor();
    const chatId = await alice.locator('.chat-item[aria-current="true"]').getAttribute('data-chat-id');
    assert.ok(chatId);
    const bobsItem = bob.locator(`.chat-item[data-chat-id="${chatId}"]`);
    await bobsItem.waitFor();

    // Typing shows in Bob's list; the message arrives live with an unread badge.
    await alice.getByLabel('Message', { exact: true }).pressSequentially('Hello Bob');
    await bobsItem.locator('.preview', { hasText: 'alice typing…' }).waitFor();
    await alice.getByLabel('Message', { exact: true }).pressSequentially(', lunch on Friday?');
    await alice.getByLabel('Message', { exact: true }).press('Enter');
    await alice.locator('.message.mine .bubble', { hasText: 'Hello Bob, lunch on Friday?' }).waitFor();
    await bobsItem.locator('.badge', { hasText: '1' }).waitFor();
    await bobsItem.locator('.preview', { hasText: 'Hello Bob, lunch on Friday?' }).waitFor();
    const bobToken = await t.token('bob');
    const unread = async () =>
      (await t.request('GET', '/v1/unread', undefined, { authorization: `Bearer ${bobToken}` })).body;
    assert.equal((await unread()).total, 1);

    // Bob opens it: he reads the message, the badge goes, and the server agrees.
    await bobsItem.click();
    await bob.locator('.message:not(.mine) .bubble', { hasText: 'Hello Bob, lunch on Friday?' }).waitFor();
    await bobsItem.locator('.badge').waitFor({ state: 'detached' });
    assert.equal((await unread()).total, 0);

    // Bob answers; Alice, in the open chat, sees it at once and gets no badge for it.
    await bob.getByLabel('Message', { exact: true }).fill('Friday works!');
    await bob.getByRole('button', { name: 'Send' }).click();
    await alice.locator('.message:not(.mine) .bubble', { hasText: 'Friday works!' }).waitFor();
    assert.equal(await alice.locator(`.chat-item[data-chat-id="${chatId}"] .badge`).count(), 0);

    // Search finds both messages, with the match marked.
    await alice.getByLabel('Search messages').fill('friday');
    await alice.locator('.search-hit').nth(1).waitFor();
    assert.equal(await alice.locator('.search-hit mark', { hasText: /friday/i }).count(), 2);

    mkdirSync(ARTIFACTS, { recursive: true });
    await alice.screenshot({ path: path.join(ARTIFACTS, 'e2e-alice.png') });
    await bob.screenshot({ path: path.join(ARTIFACTS, 'e2e-bob.png') });
    assert.deepEqual(errors, [], 'no script errors on either page');
  });
});
