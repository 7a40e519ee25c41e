import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ENGINE, type Client, type TestApp } from './support/app.ts';
import {
  startDemoPage,
  stopDemoPage,
  shot,
  openChat as open,
  messageAt as message,
  openMessageMenu as menu,
} from './support/demo-page.ts';
import { signIn as signInAs, skipWithoutChromium as skip, SocketSwitch } from './support/browser.ts';

interface MessageRow {
  seq: number;
  text: string | null;
  reactions?: { emoji: string; count: number; me: boolean }[];
}

/**
 * The demo page's chat features, each driven in Chromium by two or three people in browser contexts of their own:
 * older history on scroll, the message menu (reply, edit, delete, react, pin), pins and the pinned list, "Seen by",
 * the resume after a lost connection, group management, profile status, the unread count in the title, search in
 * the sidebar, and the phone layout.
 */
describe(`the demo page's chat features in headless Chromium (${ENGINE})`, { skip, timeout: 180_000 }, () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  const errors: string[] = [];
  let alice: Page;
  let bob: Page;
  let carol: Page;
  let aliceApi: Client;
  let bobApi: Client;
  let directId = '';
  /** Alice's connection to the stream, which a test cuts. */
  const aliceSockets = new SocketSwitch();

  before(async () => {
    ({ t, base, browser } = await startDemoPage());
  });

  after(() => stopDemoPage(t, browser));

  /** Waits for `check` to hold (a page's state that no locator shows, such as its title). */
  async function until(check: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      assert.ok(Date.now() < deadline, `timed out: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function history(api: Client, chatId: string, after: number): Promise<MessageRow[]> {
    const res = await api.get<{ data: MessageRow[] }>(
      `/v1/chats/${chatId}/messages?after=${after}&limit=200`,
    );
    assert.equal(res.status, 200);
    return res.body.data;
  }

  it('loads older history as the list is scrolled up, keeping the place, down to message #1', async (ctx) => {
    alice = await signInAs(browser, base, 'alice', errors, 'desktop', aliceSockets);
    bob = await signInAs(browser, base, 'bob', errors);
    aliceApi = await t.as('alice');
    bobApi = await t.as('bob');
    const chat = await aliceApi.post<{ id: string }>('/v1/chats', { kind: 'direct', members: ['bob'] });
    assert.equal(chat.status, 201);
    directId = chat.body.id;
    for (let n = 1; n <= 160; n += 1) {
      const sent = await (n % 2 ? aliceApi : bobApi).post(`/v1/chats/${directId}/messages`, {
        text: `Message #${n}`,
      });
      assert.equal(sent.status, 201);
    }

    await open(alice, directId);
    await message(alice, 160).waitFor();
    // The newest page only: the rest comes on scrolling.
    assert.equal(await message(alice, 100).count(), 0);
    const list = alice.locator('#messages');
    const oldest = Number(await alice.locator('#messages .message').first().getAttribute('data-seq'));
    assert.ok(oldest > 100, `opens at the newest messages (first shown: #${oldest})`);

    // One scroll to the top loads the page before it, and the message that was at the top stays in view.
    await list.evaluate((element) => {
      element.scrollTop = 0;
    });
    await message(alice, oldest - 1).waitFor();
    const listBox = (await list.boundingBox())!;
    const itemBox = (await message(alice, oldest).boundingBox())!;
    const kept = {
      top: itemBox.y - listBox.y,
      height: listBox.height,
      scrollTop: await list.evaluate((element) => element.scrollTop),
    };
    assert.ok(kept.scrollTop > 0, 'the list did not jump to the top of the new page');
    assert.ok(
      kept.top >= -40 && kept.top < kept.height,
      `message #${oldest} is still in view (${kept.top}px)`,
    );

    // Scrolling on reaches message #1, and every message is there once, in order.
    for (let round = 0; round < 10 && (await message(alice, 1).count()) === 0; round += 1) {
      await list.evaluate((element) => {
        element.scrollTop = 0;
      });
      await alice.waitForTimeout(300);
    }
    await message(alice, 1).waitFor();
    await list.evaluate((element) => {
      element.scrollTop = 0;
    });
    const seqs = await alice
      .locator('#messages .message')
      .evaluateAll((items) => items.map((item) => Number(item.getAttribute('data-seq'))));
    assert.deepEqual(
      seqs,
      Array.from({ length: 160 }, (_, i) => i + 1),
    );
    assert.equal(await message(alice, 1).locator('.bubble').textContent(), 'Message #1');
    await alice.locator('#messages .history-start', { hasText: 'start of the conversation' }).waitFor();
    await shot(ctx, alice, 'desktop-history-top');
  });

  it('replies, edits and deletes from the message menu; the other person sees each live', async (ctx) => {
    await open(bob, directId);
    await bob.getByLabel('Message', { exact: true }).fill('Are you coming to lunch?');
    await bob.getByLabel('Message', { exact: true }).press('Enter');
    await message(alice, 161).locator('.bubble', { hasText: 'Are you coming to lunch?' }).waitFor();

    // Reply: the quote shows in Alice's composer, then on the message on both pages.
    await menu(alice, 161);
    await shot(ctx, alice, 'desktop-message-menu');
    await alice.getByRole('menuitem', { name: 'Reply', exact: true }).click();
    await alice.locator('#composer-context', { hasText: 'Reply to bob' }).waitFor();
    await alice.locator('#composer-context', { hasText: 'Are you coming to lunch?' }).waitFor();
    await alice.getByLabel('Message', { exact: true }).fill('Yes, at noon');
    await shot(ctx, alice, 'desktop-composer-reply');
    await alice.getByLabel('Message', { exact: true }).press('Enter');
    await message(bob, 162).locator('.bubble', { hasText: 'Yes, at noon' }).waitFor();
    await message(bob, 162).locator('.quote', { hasText: 'Are you coming to lunch?' }).waitFor();
    await message(alice, 162).locator('.quote', { hasText: 'Are you coming to lunch?' }).waitFor();
    assert.ok(await alice.locator('#composer-context').isHidden(), 'the reply context is gone after sending');
    assert.equal((await history(aliceApi, directId, 161))[0]?.seq, 162);
    const reply = await aliceApi.get<{ replyTo: number | null }>(`/v1/chats/${directId}/messages/162`);
    assert.equal(reply.body.replyTo, 161);

    // Edit: the composer takes the text; Bob sees the new one, marked edited.
    await menu(alice, 162);
    await alice.getByRole('menuitem', { name: 'Edit' }).click();
    await alice.locator('#composer-context', { hasText: 'Edit message' }).waitFor();
    assert.equal(await alice.getByLabel('Message', { exact: true }).inputValue(), 'Yes, at noon');
    await alice.getByLabel('Message', { exact: true }).fill('Yes, at half past twelve');
    await alice.getByLabel('Message', { exact: true }).press('Enter');
    await message(bob, 162).locator('.bubble', { hasText: 'Yes, at half past twelve' }).waitFor();
    await message(bob, 162).locator('time', { hasText: 'edited' }).waitFor();
    assert.equal(await alice.locator('#messages .message').count(), 162, 'an edit sends no new message');

    // Bob may not edit or delete Alice's message in a direct chat: his menu offers neither.
    await menu(bob, 162);
    assert.ok(await bob.getByRole('menuitem', { name: 'Edit' }).isHidden());
    assert.ok(await bob.getByRole('menuitem', { name: 'Delete' }).isHidden());
    await bob.keyboard.press('Escape');

    // Delete (confirmed): gone for Bob too.
    await alice.getByLabel('Message', { exact: true }).fill('Oops, wrong chat');
    await alice.getByLabel('Message', { exact: true }).press('Enter');
    await message(bob, 163).locator('.bubble', { hasText: 'Oops, wrong chat' }).waitFor();
    await menu(alice, 163);
    alice.once('dialog', (dialog) => void dialog.accept());
    await alice.getByRole('menuitem', { name: 'Delete' }).click();
    await bob
      .locator('#messages .message.deleted[data-seq="163"]', { hasText: 'This message was deleted.' })
      .waitFor();
    const deleted = await bobApi.get<{ deletedAt: string | null }>(`/v1/chats/${directId}/messages/163`);
    assert.ok(deleted.body.deletedAt);
  });

  it('reacts with an emoji: chips with counts, your own marked, live on the other page', async (ctx) => {
    const chip = (page: Page) => message(page, 162).locator('.reaction[data-emoji="👍"]');
    await menu(bob, 162);
    await bob.getByRole('menuitemcheckbox', { name: 'React with 👍' }).click();
    await chip(bob).locator('.count', { hasText: '1' }).waitFor();
    assert.equal(await chip(bob).getAttribute('aria-pressed'), 'true');
    await chip(alice).locator('.count', { hasText: '1' }).waitFor();
    assert.equal(await chip(alice).getAttribute('aria-pressed'), 'false');

    // Alice joins in from the chip itself.
    await chip(alice).click();
    await chip(alice).locator('.count', { hasText: '2' }).waitFor();
    assert.equal(await chip(alice).getAttribute('aria-pressed'), 'true');
    await chip(bob).locator('.count', { hasText: '2' }).waitFor();
    // A second emoji, from the menu.
    await menu(alice, 162);
    await alice.getByRole('menuitemcheckbox', { name: 'React with 🎉' }).click();
    await message(bob, 162).locator('.reaction[data-emoji="🎉"] .count', { hasText: '1' }).waitFor();
    await shot(ctx, alice, 'desktop-reactions-alice');
    await alice.emulateMedia({ colorScheme: 'dark' });
    await shot(ctx, alice, 'desktop-reactions-alice-dark');
    await alice.emulateMedia({ colorScheme: 'light' });
    await shot(ctx, bob, 'desktop-reactions-bob');

    // Bob takes his back: Alice sees the count drop, hers still marked.
    await chip(bob).click();
    await chip(alice).locator('.count', { hasText: '1' }).waitFor();
    assert.equal(await chip(alice).getAttribute('aria-pressed'), 'true');
    await chip(bob).locator('.count', { hasText: '1' }).waitFor();
    assert.equal(await chip(bob).getAttribute('aria-pressed'), 'false');
    const [row] = await history(aliceApi, directId, 161);
    assert.deepEqual(row?.reactions, [
      { emoji: '👍', count: 1, me: true },
      { emoji: '🎉', count: 1, me: true },
    ]);
  });

  it('pins from the menu: the other person sees the marker and the pinned list, and jumps to an old pin', async (ctx) => {
    /** Scrolls a message into the middle of the list first (a scroll closes an open menu). */
    async function pinFromMenu(page: Page, seq: number, action: 'Pin' | 'Unpin'): Promise<void> {
      await message(page, seq).evaluate((element) => element.scrollIntoView({ block: 'center' }));
      await page.waitForTimeout(200);
      await menu(page, seq);
      await page.getByRole('menuitem', { name: action, exact: true }).click();
    }

    // Alice pins Bob's question: Bob sees the marker and the pin button in the chat's header.
    assert.ok(await bob.locator('#pins-open').isHidden(), 'no pins yet, no pin button');
    await pinFromMenu(alice, 161, 'Pin');
    await message(alice, 161).locator('.pin-mark', { hasText: 'Pinned by you' }).waitFor();
    await message(bob, 161).locator('.pin-mark', { hasText: 'Pinned by alice' }).waitFor();
    await bob.locator('#pins-open', { hasText: '1' }).waitFor();

    // An old message, far above Bob's page: Alice (who scrolled through the whole history) pins #12.
    await pinFromMenu(alice, 12, 'Pin');
    await bob.locator('#pins-open', { hasText: '2' }).waitFor();
    assert.equal(await message(bob, 12).count(), 0, 'not on Bob’s page');
    await bob.locator('#pins-open').click();
    await bob.locator('#pins-panel').waitFor();
    await bob.locator('#pins-list .pin-item[data-seq="12"]', { hasText: 'Message #12' }).waitFor();
    assert.deepEqual(
      await bob
        .locator('#pins-list .pin-item')
        .evaluateAll((items) => items.map((item) => item.dataset['seq'])),
      ['12', '161'],
      'newest pin first',
    );
    await shot(ctx, bob, 'desktop-pins-panel');
    await bob.locator('#pins-list .pin-item[data-seq="12"]').click();
    // The page loads the history around the pinned message and highlights it.
    await bob.locator('#messages .message.flash[data-seq="12"]').waitFor();
    assert.ok(await bob.locator('#pins-panel').isHidden(), 'the list closes');
    await message(bob, 12).locator('.pin-mark', { hasText: 'Pinned by alice' }).waitFor();
    await shot(ctx, bob, 'desktop-pin-jumped');
    await bob.locator('#pins-open').click();
    await bob.emulateMedia({ colorScheme: 'dark' });
    await shot(ctx, bob, 'desktop-pins-panel-dark');
    await bob.emulateMedia({ colorScheme: 'light' });
    await bob.keyboard.press('Escape');
    await bob.locator('#pins-panel').waitFor({ state: 'hidden' });

    // Bob unpins it (both members of a direct chat may): gone from Alice's page and list.
    await pinFromMenu(bob, 12, 'Unpin');
    await message(alice, 12).locator('.pin-mark').waitFor({ state: 'detached' });
    await alice.locator('#pins-open', { hasText: '1' }).waitFor();
    const pins = await aliceApi.get<{ data: { seq: number; pinnedBy: string }[] }>(
      `/v1/chats/${directId}/pins`,
    );
    assert.deepEqual(
      pins.body.data.map((pin) => [pin.seq, pin.pinnedBy]),
      [[161, 'alice']],
    );
    // Bob goes back to the newest messages.
    await bob.locator(`.chat-item[data-chat-id="${directId}"]`).click();
    await message(bob, 162).waitFor();
  });

  it('after a lost connection, shows the reactions and unpins made meanwhile, once each (the resume replays them)', async () => {
    await aliceSockets.cut();
    try {
      await alice.locator('#connection-text', { hasText: /reconnecting/ }).waitFor();
      const reacted = await bobApi.put(
        `/v1/chats/${directId}/messages/161/reactions/${encodeURIComponent('🙏')}`,
      );
      assert.equal(reacted.status, 201);
      assert.equal((await bobApi.delete(`/v1/chats/${directId}/messages/161/pin`)).status, 204);
      assert.equal(await message(alice, 161).locator('.reaction').count(), 0, 'not seen while disconnected');
      assert.equal(await message(alice, 161).locator('.pin-mark').count(), 1, 'still pinned on the page');
    } finally {
      aliceSockets.release();
    }
    await alice.locator('#connection-text', { hasText: 'live' }).waitFor();
    await message(alice, 161).locator('.reaction[data-emoji="🙏"] .count', { hasText: '1' }).waitFor();
    await message(alice, 161).locator('.pin-mark').waitFor({ state: 'detached' });
    await alice.locator('#pins-open').waitFor({ state: 'hidden' });
    await alice.waitForTimeout(500);
    assert.equal(await message(alice, 161).locator('.reaction').count(), 1, 'one chip, shown once');
    assert.equal(await alice.locator('#messages .message[data-seq="161"]').count(), 1);
    assert.equal(await alice.locator('#messages .message').count(), 163, 'no message twice');
  });

  it('manages a group: add a member, change a role, remove, leave; "1 member"', async (ctx) => {
    carol = await signInAs(browser, base, 'carol', errors);
    await alice.getByRole('button', { name: 'New chat' }).click();
    await alice.getByLabel('Find people').fill('bob');
    await alice.locator('#user-picker input[value="bob"]').check();
    await alice.getByLabel('Group name').fill('Trip planning');
    await alice.getByRole('button', { name: 'Create' }).click();
    await alice.locator('#chat-title', { hasText: 'Trip planning' }).waitFor();
    await alice.locator('#chat-subtitle', { hasText: /^2 members,/ }).waitFor();
    const groupId = await alice.locator('.chat-item[aria-current="true"]').getAttribute('data-chat-id');
    assert.ok(groupId);

    // Alice (owner) adds Carol, who sees the group appear.
    await alice.getByRole('button', { name: 'Members', exact: true }).click();
    await alice.locator('#group-title', { hasText: 'Trip planning: 2 members' }).waitFor();
    await alice.getByLabel('Add people').fill('carol');
    await alice.getByRole('button', { name: 'Add carol' }).click();
    await alice.locator('#group-members li[data-user-id="carol"]').waitFor();
    await alice.locator('#group-title', { hasText: 'Trip planning: 3 members' }).waitFor();
    await carol.locator(`.chat-item[data-chat-id="${groupId}"]`).waitFor();

    // Alice makes Bob an admin.
    await alice.getByLabel('Role of bob').selectOption('admin');
    await alice.locator('#group-members li[data-user-id="bob"] option[value="admin"]:checked').waitFor({
      state: 'attached',
    });
    await shot(ctx, alice, 'desktop-group-members-owner');
    const bobMember = await aliceApi.get<{ role: string }>(`/v1/chats/${groupId}/members/bob`);
    assert.equal(bobMember.body.role, 'admin');
    await alice.getByRole('button', { name: 'Done' }).click();

    // Bob, an admin, may remove Carol (a member) but set no roles.
    await open(bob, groupId);
    await bob.getByRole('button', { name: 'Members', exact: true }).click();
    await bob.locator('#group-members li[data-user-id="carol"]').waitFor();
    assert.equal(await bob.locator('#group-members select').count(), 0, 'only an owner sets roles');
    assert.equal(
      await bob.getByRole('button', { name: 'Remove alice' }).count(),
      0,
      'an admin cannot remove the owner',
    );
    await shot(ctx, bob, 'desktop-group-members-admin');
    await bob.getByRole('button', { name: 'Remove carol' }).click();
    await carol.locator(`.chat-item[data-chat-id="${groupId}"]`).waitFor({ state: 'detached' });
    await alice.locator('#chat-subtitle', { hasText: /^2 members,/ }).waitFor();

    // Bob leaves: Alice is alone, and the page says "1 member".
    bob.once('dialog', (dialog) => void dialog.accept());
    await bob.getByRole('button', { name: 'Leave group' }).click();
    await bob.locator(`.chat-item[data-chat-id="${groupId}"]`).waitFor({ state: 'detached' });
    await alice.locator('#chat-subtitle', { hasText: /^1 member, 1 online$/ }).waitFor();
    await alice
      .locator(`.chat-item[data-chat-id="${groupId}"] .preview`, { hasText: /^1 member$/ })
      .waitFor();
    assert.equal(await alice.getByText(/\b1 members\b/).count(), 0);
    await shot(ctx, alice, 'desktop-group-alone');
  });

  it('shows who has seen your last message in a group, live; only its owners and admins pin', async (ctx) => {
    const created = await aliceApi.post<{ id: string }>('/v1/chats', {
      kind: 'group',
      name: 'Weekend',
      members: ['bob', 'carol'],
    });
    assert.equal(created.status, 201);
    const weekendId = created.body.id;
    for (const page of [alice, bob, carol]) {
      await page.locator(`.chat-item[data-chat-id="${weekendId}"]`).waitFor();
    }
    await open(alice, weekendId);
    await alice.getByLabel('Message', { exact: true }).fill('Who is in for Saturday?');
    await alice.getByLabel('Message', { exact: true }).press('Enter');
    await message(alice, 1).waitFor();
    await alice.waitForTimeout(300);
    assert.equal(await alice.locator('#messages .seen').count(), 0, 'nobody has seen it yet');

    // Bob opens the group: Alice sees him under her message; then Carol.
    await open(bob, weekendId);
    await message(alice, 1)
      .locator('.seen', { hasText: /^Seen by bob$/ })
      .waitFor();
    await open(carol, weekendId);
    await message(alice, 1)
      .locator('.seen', { hasText: /^Seen by bob, carol$/ })
      .waitFor();
    const receipts = await aliceApi.get<{ data: { userId: string }[] }>(
      `/v1/chats/${weekendId}/messages/1/receipts`,
    );
    assert.deepEqual(receipts.body.data.map((receipt) => receipt.userId).sort(), ['bob', 'carol']);
    await shot(ctx, alice, 'desktop-seen-by-group');

    // Carol, a member, may not pin here; Alice, the owner, pins, and Carol sees it.
    await menu(carol, 1);
    assert.ok(await carol.getByRole('menuitem', { name: 'Pin', exact: true }).isHidden());
    await carol.keyboard.press('Escape');
    await menu(alice, 1);
    await alice.getByRole('menuitem', { name: 'Pin', exact: true }).click();
    await message(carol, 1).locator('.pin-mark', { hasText: 'Pinned by alice' }).waitFor();
    await carol.locator('#pins-open', { hasText: '1' }).waitFor();

    // Carol answers; Alice and Bob have the group open, so Carol sees her answer seen by both.
    await carol.getByLabel('Message', { exact: true }).fill('Count me in');
    await carol.getByLabel('Message', { exact: true }).press('Enter');
    await message(alice, 2).locator('.bubble', { hasText: 'Count me in' }).waitFor();
    await message(carol, 2)
      .locator('.seen', { hasText: /^Seen by alice, bob$/ })
      .waitFor();
    await message(alice, 1)
      .locator('.seen', { hasText: /^Seen by bob, carol$/ })
      .waitFor();
    await shot(ctx, carol, 'desktop-seen-and-pinned-group-carol');
    await until(async () => (await alice.title()) === 'Parley', 'Alice has read the group');
  });

  it('sets a profile status that others see', async (ctx) => {
    await bob.getByRole('button', { name: 'Your profile and status' }).click();
    await bob.getByLabel('Presence').selectOption('busy');
    await bob.getByLabel('Status message').fill('At the dentist');
    await shot(ctx, bob, 'desktop-profile-dialog');
    await bob.getByRole('button', { name: 'Save' }).click();
    await bob.locator('#me-id', { hasText: 'At the dentist' }).waitFor();
    const bobNow = await aliceApi.get<{ status: string; statusText: string | null }>('/v1/users/bob');
    assert.equal(bobNow.body.statusText, 'At the dentist');
    assert.equal(bobNow.body.status, 'busy');

    await open(alice, directId);
    await alice.locator('#chat-subtitle', { hasText: 'busy · At the dentist' }).waitFor();
    await shot(ctx, alice, 'desktop-status-seen');
  });

  it('counts unread messages in the tab title', async () => {
    // Alice looks at the group; Bob writes three messages in their direct chat.
    await alice.locator('.chat-item', { hasText: 'Trip planning' }).click();
    await alice.locator('#chat-title', { hasText: 'Trip planning' }).waitFor();
    assert.equal(await alice.title(), 'Parley');
    for (const text of ['one', 'two', 'three']) {
      assert.equal((await bobApi.post(`/v1/chats/${directId}/messages`, { text })).status, 201);
    }
    await until(async () => (await alice.title()) === '(3) Parley', 'the title counts three unread');
    await open(alice, directId);
    await until(async () => (await alice.title()) === 'Parley', 'reading the chat clears the count');
  });

  it('keeps search results inside the sidebar', async (ctx) => {
    // A long message, and a long word in it (a link), must wrap inside the sidebar.
    const long =
      'A long message about the trip: we meet at the station at eight, take the train to the coast, walk along ' +
      'the cliffs to the lighthouse and have lunch at the harbour; the route is at ' +
      'https://example.com/maps/coastal-walk/lighthouse-and-harbour-route-with-all-the-stops-on-the-way';
    assert.equal((await bobApi.post(`/v1/chats/${directId}/messages`, { text: long })).status, 201);
    const results = alice.locator('#search-results');
    const sidebarBox = (await alice.locator('.sidebar').boundingBox())!;
    await alice.getByLabel('Search messages').fill('lighthouse');
    await alice.locator('.search-hit', { hasText: 'harbour' }).waitFor();
    const hitBox = (await alice.locator('.search-hit').first().boundingBox())!;
    assert.ok(
      hitBox.x + hitBox.width <= sidebarBox.x + sidebarBox.width + 1,
      'a long result wraps in the sidebar',
    );
    assert.ok(
      await results.evaluate((element) => element.scrollWidth <= element.clientWidth),
      'the results do not scroll sideways',
    );
    await shot(ctx, alice, 'desktop-search-long');

    // Many results scroll inside the sidebar, above its connection line.
    await alice.getByLabel('Search messages').fill('message');
    await alice.locator('.search-hit').nth(20).waitFor();
    const resultsBox = (await results.boundingBox())!;
    const footerBox = (await alice.locator('.connection').boundingBox())!;
    const viewport = alice.viewportSize()!;
    assert.ok(
      resultsBox.y + resultsBox.height <= footerBox.y + 1,
      'the results end above the connection line',
    );
    assert.ok(footerBox.y + footerBox.height <= viewport.height + 1, 'the sidebar fits the window');
    assert.ok(
      await results.evaluate((element) => element.scrollHeight > element.clientHeight),
      'the results scroll inside the sidebar',
    );
    for (const hit of await alice.locator('.search-hit').all()) {
      const box = (await hit.boundingBox())!;
      assert.ok(box.x + box.width <= sidebarBox.x + sidebarBox.width + 1, 'each result fits the sidebar');
    }
    await shot(ctx, alice, 'desktop-search');
    await alice.getByLabel('Search messages').press('Escape');
  });

  it('opens a search hit deep in the history and pages in both directions from it', async (ctx) => {
    await alice.getByLabel('Search messages').fill('"Message #20"');
    const hit = alice.locator('.search-hit', { hasText: /Message #20$/ });
    await hit.click();
    await alice.locator('#messages .message.flash[data-seq="20"]').waitFor();
    assert.equal(await message(alice, 160).count(), 0, 'opened at the hit, not at the newest page');
    const list = alice.locator('#messages');
    // Down to the newest message (#167), page by page; then up to #1.
    for (let round = 0; round < 10 && (await message(alice, 167).count()) === 0; round += 1) {
      await list.evaluate((element) => {
        element.scrollTop = element.scrollHeight;
      });
      await alice.waitForTimeout(300);
    }
    await message(alice, 167).waitFor();
    for (let round = 0; round < 10 && (await message(alice, 1).count()) === 0; round += 1) {
      await list.evaluate((element) => {
        element.scrollTop = 0;
      });
      await alice.waitForTimeout(300);
    }
    const seqs = await alice
      .locator('#messages .message')
      .evaluateAll((items) => items.map((item) => Number(item.getAttribute('data-seq'))));
    assert.deepEqual(
      seqs,
      Array.from({ length: 167 }, (_, i) => i + 1),
    );
    // A message sent now shows at the end, live on the other page.
    await open(bob, directId);
    await message(bob, 167).waitFor();
    await alice.getByLabel('Message', { exact: true }).fill('Back from the archives');
    await alice.getByLabel('Message', { exact: true }).press('Enter');
    await message(alice, 168).waitFor();
    await message(bob, 168).locator('.bubble', { hasText: 'Back from the archives' }).waitFor();
    // Bob has the chat open: his page reads it, and Alice sees "Seen" under her message (a direct chat names no one).
    await message(alice, 168)
      .locator('.seen', { hasText: /^Seen$/ })
      .waitFor();
    assert.equal(await alice.locator('#messages .seen').count(), 1, 'under her last message only');
    await shot(ctx, alice, 'desktop-seen-direct');
  });

  it('on a phone-sized screen shows the chat list and a chat as separate views, with a back button', async (ctx) => {
    const phone = await signInAs(browser, base, 'carol', errors, 'phone');
    await phone.locator('#chat-list').waitFor();
    assert.ok(await phone.locator('#chat').isHidden(), 'the list alone');

    // Carol writes to Alice from the phone.
    await phone.getByRole('button', { name: 'New chat' }).click();
    await phone.getByLabel('Find people').fill('alice');
    await phone.locator('#user-picker input[value="alice"]').check();
    await phone.getByRole('button', { name: 'Create' }).click();
    await phone.locator('#chat-title', { hasText: 'alice' }).waitFor();
    assert.ok(await phone.locator('.sidebar').isHidden(), 'the chat alone');
    await phone.getByLabel('Message', { exact: true }).fill('Hi Alice, sent from my phone');
    await phone.getByRole('button', { name: 'Send' }).click();
    await message(phone, 1).waitFor();
    await phone.waitForTimeout(300);
    assert.equal(await phone.locator('#messages .seen').count(), 0, 'not seen before Alice opens the chat');
    await alice.locator('.chat-item', { hasText: 'Hi Alice, sent from my phone' }).click();
    await alice.locator('#messages .message[data-seq="1"]').waitFor();
    await message(phone, 1)
      .locator('.seen', { hasText: /^Seen$/ })
      .waitFor();
    // Alice pins it: the phone shows the marker and the pinned list.
    await menu(alice, 1);
    await alice.getByRole('menuitem', { name: 'Pin', exact: true }).click();
    await message(phone, 1).locator('.pin-mark', { hasText: 'Pinned by alice' }).waitFor();
    await phone.locator('#pins-open').click();
    await phone.locator('#pins-list .pin-item[data-seq="1"]').waitFor();
    await shot(ctx, phone, 'phone-pins-panel');
    await phone.locator('#pins-list .pin-item[data-seq="1"]').click();
    await phone.locator('#pins-panel').waitFor({ state: 'hidden' });
    await menu(alice, 1);
    await alice.getByRole('menuitemcheckbox', { name: 'React with ❤️' }).click();
    await message(phone, 1).locator('.reaction[data-emoji="❤️"]').waitFor();
    await shot(ctx, phone, 'phone-chat');
    await menu(phone, 1);
    await shot(ctx, phone, 'phone-message-menu');
    await phone.keyboard.press('Escape');

    // Back to the list.
    await phone.getByRole('button', { name: 'Back to chats' }).click();
    await phone.locator('#chat-list').waitFor();
    assert.ok(await phone.locator('#chat').isHidden());
    await phone.locator('.chat-item', { hasText: 'alice' }).waitFor();
    await shot(ctx, phone, 'phone-chat-list');
    assert.ok(
      await alice.getByRole('button', { name: 'Back to chats' }).isHidden(),
      'no back button on a desktop',
    );

    await phone.getByRole('button', { name: 'Your profile and status' }).click();
    await phone.getByLabel('Status message').fill('Commuting');
    await shot(ctx, phone, 'phone-profile-dialog');
    await phone.getByRole('button', { name: 'Save' }).click();
    await phone.locator('#me-id', { hasText: 'Commuting' }).waitFor();

    await phone.getByLabel('Search messages').fill('phone');
    await phone.locator('.search-hit').first().waitFor();
    await shot(ctx, phone, 'phone-search');
    assert.deepEqual(errors, [], 'no script errors on any page');
  });
});
