import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ENGINE, type Client, type TestApp } from './support/app.ts';
import { startDemoPage, stopDemoPage, shot, openChat as open } from './support/demo-page.ts';
import { signIn, skipWithoutChromium as skip } from './support/browser.ts';

/**
 * The demo page's moderation, in Chromium, each step checked on another person's page than the one that acts (or
 * through the API): muting and unmuting from the Members panel, the muted member's composer, reporting a message,
 * banning a member, blocking the other member of a direct chat.
 */
describe(`the demo page's moderation in headless Chromium (${ENGINE})`, { skip, timeout: 180_000 }, () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  const errors: string[] = [];
  let alice: Page;
  let bob: Page;
  let carol: Page;
  let aliceApi: Client;
  let groupId = '';

  before(async () => {
    ({ t, base, browser } = await startDemoPage());
  });

  after(() => stopDemoPage(t, browser));

  function bubble(page: Page, text: string) {
    return page.locator('#messages .bubble', { hasText: text });
  }

  function member(page: Page, userId: string) {
    return page.locator(`#group-members li[data-user-id="${userId}"]`);
  }

  /** Answers the page's next confirm or prompt (a browser dismisses them unless told). */
  function answerNext(page: Page, text?: string): void {
    page.once('dialog', (dialog) => void dialog.accept(text));
  }

  async function send(page: Page, text: string): Promise<void> {
    await page.getByLabel('Message', { exact: true }).fill(text);
    await page.getByLabel('Message', { exact: true }).press('Enter');
  }

  async function messageCount(chatId: string): Promise<number> {
    const page = await aliceApi.get<{ data: unknown[] }>(`/v1/chats/${chatId}/messages?limit=200`);
    assert.equal(page.status, 200);
    return page.body.data.length;
  }

  it('mutes a member from the Members panel: their send is refused until unmuted, and nobody sees it', async (ctx) => {
    alice = await signIn(browser, base, 'alice', errors);
    bob = await signIn(browser, base, 'bob', errors);
    carol = await signIn(browser, base, 'carol', errors);
    aliceApi = await t.as('alice');
    const group = await aliceApi.post<{ id: string }>('/v1/chats', {
      kind: 'group',
      name: 'Town hall',
      members: ['bob', 'carol'],
    });
    assert.equal(group.status, 201);
    groupId = group.body.id;
    assert.equal(
      (await aliceApi.post(`/v1/chats/${groupId}/messages`, { text: 'Welcome, all' })).status,
      201,
    );
    for (const page of [alice, bob, carol]) {
      await open(page, groupId);
      await bubble(page, 'Welcome, all').waitFor();
    }

    // Alice (the owner) mutes Bob for an hour; the panel tags him.
    await alice.getByRole('button', { name: 'Members', exact: true }).click();
    await member(alice, 'bob').getByRole('button', { name: 'Mute bob…', exact: true }).click();
    await member(alice, 'bob').getByRole('button', { name: 'Mute bob for 1 hour', exact: true }).click();
    await member(alice, 'bob')
      .locator('.muted-tag', { hasText: /^muted until \d\d:\d\d$/ })
      .waitFor();
    assert.equal(await member(alice, 'carol').locator('.muted-tag').count(), 0);
    await member(alice, 'bob').getByRole('button', { name: 'Unmute bob', exact: true }).waitFor();
    await shot(ctx, alice, 'desktop-moderation-panel-muted');

    // Bob's send is refused: the composer says until when and keeps his text; nothing reaches Carol.
    // (The live member.muted event may show the notice before the send: wait for the refusal itself.)
    const refused = bob.waitForResponse(
      (response) =>
        response.request().method() === 'POST' && /\/v1\/chats\/[^/]+\/messages$/.test(response.url()),
    );
    await send(bob, 'Can I speak?');
    assert.equal((await refused).status(), 403);
    await bob
      .locator('#composer-notice', { hasText: /^You are muted in this chat until \d\d:\d\d$/ })
      .waitFor();
    // The composer has Bob's text back (a string: the test's own types have no DOM).
    await bob.waitForFunction("document.getElementById('composer-text').value === 'Can I speak?'");
    await shot(ctx, bob, 'desktop-moderation-muted-composer');
    assert.equal(await messageCount(groupId), 1, 'the refused message was not written');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await bubble(carol, 'Can I speak?').count(), 0);

    // Unmuted: the tag goes, Bob's notice goes (live), and his message reaches Carol.
    await member(alice, 'bob').getByRole('button', { name: 'Unmute bob', exact: true }).click();
    await member(alice, 'bob').locator('.muted-tag').waitFor({ state: 'detached' });
    await alice.locator('#group-close').click();
    await bob.locator('#composer-notice').waitFor({ state: 'hidden' });
    await bob.getByLabel('Message', { exact: true }).press('Enter');
    await bubble(carol, 'Can I speak?').waitFor();
    await bubble(bob, 'Can I speak?').waitFor();
    assert.equal(await bob.locator('#composer-notice').isHidden(), true);
  });

  it("reports someone else's message with a reason, which a tenant administrator lists", async (ctx) => {
    const seq = Number(
      await carol
        .locator('#messages .message', { has: carol.locator('.bubble', { hasText: 'Can I speak?' }) })
        .getAttribute('data-seq'),
    );
    assert.ok(seq > 1);
    const message = carol.locator(`#messages .message[data-seq="${seq}"]`);
    await message.hover();
    await message.getByRole('button', { name: 'Message actions' }).click();
    answerNext(carol, 'Off-topic shouting');
    await carol.getByRole('menuitem', { name: 'Report…', exact: true }).click();
    await carol.locator('#toast', { hasText: 'reported to the administrators' }).waitFor();
    await shot(ctx, carol, 'desktop-moderation-reported');

    // Not on one's own message.
    const own = bob.locator(`#messages .message[data-seq="${seq}"]`);
    await own.hover();
    await own.getByRole('button', { name: 'Message actions' }).click();
    assert.equal(await bob.getByRole('menuitem', { name: 'Report…', exact: true }).isHidden(), true);
    await bob.keyboard.press('Escape');

    // A tenant administrator signs in on the page: "Reports 1"; the report shows the message, its author and why.
    const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
    const moderator = await context.newPage();
    moderator.on('pageerror', (error) => errors.push(`moderator: ${error.message}`));
    await moderator.goto(`${base}/`);
    await moderator.getByLabel('User id').fill('moderator');
    await moderator.getByLabel('As a tenant administrator').check();
    await moderator.getByRole('button', { name: 'Continue' }).click();
    await moderator.locator('#connection-text', { hasText: 'live' }).waitFor();
    await moderator.locator('#reports-count', { hasText: '1' }).waitFor();
    assert.equal(await carol.locator('#reports-open').isHidden(), true, 'members see no reports button');
    await moderator.getByRole('button', { name: /^Reported messages/ }).click();
    const report = moderator.locator('#reports-list .report');
    await report.locator('.report-text', { hasText: 'Can I speak?' }).waitFor();
    assert.match((await report.locator('.report-head').textContent()) ?? '', /bob.*reported by carol/);
    await report.locator('.report-reason', { hasText: 'Reason: Off-topic shouting' }).waitFor();
    await shot(ctx, moderator, 'desktop-moderation-reports');

    // Deleting the message resolves the report: gone for everyone, and Carol is told.
    await report.getByRole('button', { name: 'Delete message', exact: true }).click();
    await moderator.locator('#reports-list', { hasText: 'No open reports.' }).waitFor();
    await moderator.locator('#reports-count').waitFor({ state: 'hidden' });
    await carol.locator(`#messages .message.deleted[data-seq="${seq}"]`).waitFor();
    await bob.locator(`#messages .message.deleted[data-seq="${seq}"]`).waitFor();
    await carol.locator('#toast', { hasText: 'acted on your report: the message was deleted' }).waitFor();
    const admin = await t.as('moderator', { admin: true });
    const reports = await admin.get<{ data: { seq: number; status: string; action: string; text: null }[] }>(
      `/v1/reports?chatId=${groupId}`,
    );
    assert.deepEqual(
      reports.body.data.map(({ seq: at, status, action, text }) => ({ seq: at, status, action, text })),
      [{ seq, status: 'resolved', action: 'delete_message', text: null }],
    );
    await context.close();
  });

  it('bans a member from the panel: the chat leaves their list, and the panel lists the ban', async (ctx) => {
    await alice.getByRole('button', { name: 'Members', exact: true }).click();
    answerNext(alice);
    await member(alice, 'carol').getByRole('button', { name: 'Ban carol', exact: true }).click();
    await carol.locator(`.chat-item[data-chat-id="${groupId}"]`).waitFor({ state: 'detached' });
    await carol.locator('#empty').waitFor();
    await member(alice, 'carol').waitFor({ state: 'detached' });
    await alice.locator('#group-bans li[data-user-id="carol"]').waitFor();
    await shot(ctx, alice, 'desktop-moderation-banned');
    await alice.emulateMedia({ colorScheme: 'dark' });
    await shot(ctx, alice, 'desktop-moderation-banned-dark');
    await alice.emulateMedia({ colorScheme: 'light' });
    const again = await aliceApi.post(`/v1/chats/${groupId}/members`, { userId: 'carol' });
    assert.equal(again.status, 403, 'a banned user cannot be added back');
    await alice.locator('#group-close').click();
  });

  it('blocks the other member of a direct chat from its menu: their sends there are refused', async (ctx) => {
    const direct = await aliceApi.post<{ id: string }>('/v1/chats', { kind: 'direct', members: ['bob'] });
    assert.equal(direct.status, 201);
    const directId = direct.body.id;
    assert.equal((await aliceApi.post(`/v1/chats/${directId}/messages`, { text: 'Hi Bob' })).status, 201);
    await bob.locator(`.chat-item[data-chat-id="${directId}"]`).waitFor();
    await open(bob, directId);
    await open(alice, directId);

    await bob.getByRole('button', { name: 'Chat options' }).click();
    answerNext(bob);
    await bob.getByRole('menuitem', { name: 'Block', exact: true }).click();
    await bob.locator('#toast', { hasText: 'You blocked alice' }).waitFor();
    await bob.locator('#composer-notice', { hasText: 'You block alice' }).waitFor();
    await shot(ctx, bob, 'desktop-moderation-blocker');

    await send(alice, 'Are you there?');
    await alice
      .locator('#composer-notice', { hasText: 'This direct chat takes no new messages from you' })
      .waitFor();
    await shot(ctx, alice, 'desktop-moderation-blocked');
    assert.equal(await messageCount(directId), 1, 'the refused message was not written');
    assert.equal(await bubble(bob, 'Are you there?').count(), 0);

    // Unblocked (the menu says so): Alice's next try goes through.
    await bob.getByRole('button', { name: 'Chat options' }).click();
    await bob.getByRole('menuitem', { name: 'Unblock', exact: true }).click();
    await bob.locator('#composer-notice').waitFor({ state: 'hidden' });
    await alice.getByLabel('Message', { exact: true }).press('Enter');
    await bubble(bob, 'Are you there?').waitFor();
    await alice.locator('#composer-notice').waitFor({ state: 'hidden' });
    // The group's menu has no Block.
    await open(alice, groupId);
    await alice.getByRole('button', { name: 'Chat options' }).click();
    assert.equal(await alice.getByRole('menuitem', { name: 'Block', exact: true }).isHidden(), true);
    await alice.keyboard.press('Escape');
    assert.deepEqual(errors, [], 'no script errors on any page');
  });
});
