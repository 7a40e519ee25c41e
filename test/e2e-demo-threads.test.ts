import assert from 'node:assert/strict';
import { crc32, deflateSync } from 'node:zlib';
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
import { signIn, skipWithoutChromium as skip } from './support/browser.ts';

/**
 * The demo page's threads, mentions and chat settings, in Chromium, each checked on another person's page than the
 * one that acts: the thread panel (live replies, reply counts, paging, "also send to chat", the phone's full-screen
 * panel), `@` autocomplete and highlighted mentions with the list's "@" badge, muting and archiving a chat.
 */

/** A real PNG of `width` × `height` (a gradient), which a browser decodes. */
function picture(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      rows.set(
        [
          255 - Math.floor((y * 120) / height),
          90 + Math.floor((x * 100) / width),
          60 + Math.floor((y * 150) / height),
        ],
        row + 1 + x * 3,
      );
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe(
  `the demo page's threads, mentions and chat settings in headless Chromium (${ENGINE})`,
  { skip, timeout: 180_000 },
  () => {
    let t: TestApp;
    let base: string;
    let browser: Browser;
    const errors: string[] = [];
    let alice: Page;
    let bob: Page;
    let carol: Page;
    let aliceApi: Client;
    let bobApi: Client;
    let groupId = '';
    let directId = '';

    before(async () => {
      ({ t, base, browser } = await startDemoPage());
    });

    after(() => stopDemoPage(t, browser));

    function inThread(page: Page, seq: number) {
      return page.locator(`#thread-messages .message[data-seq="${seq}"]`);
    }

    async function until(check: () => Promise<boolean>, what: string): Promise<void> {
      const deadline = Date.now() + 10_000;
      while (!(await check())) {
        assert.ok(Date.now() < deadline, `timed out: ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    it('replies in a thread in a side panel: live for the others, counted under the root, out of the history', async (ctx) => {
      alice = await signIn(browser, base, 'alice', errors);
      bob = await signIn(browser, base, 'bob', errors);
      carol = await signIn(browser, base, 'carol', errors);
      aliceApi = await t.as('alice');
      bobApi = await t.as('bob');
      const group = await aliceApi.post<{ id: string }>('/v1/chats', {
        kind: 'group',
        name: 'Weekend',
        members: ['bob', 'carol'],
      });
      assert.equal(group.status, 201);
      groupId = group.body.id;
      assert.equal(
        (await aliceApi.post(`/v1/chats/${groupId}/messages`, { text: 'Plan for Friday?' })).status,
        201,
      );
      await open(alice, groupId);
      await open(bob, groupId);
      await open(carol, groupId);

      // Alice and Bob open the thread under message #1 from its menu.
      for (const page of [alice, bob]) {
        await menu(page, 1);
        await page.getByRole('menuitem', { name: 'Reply in thread' }).click();
        await page.locator('#thread-panel').waitFor();
        await inThread(page, 1).waitFor();
      }
      await alice.getByLabel('Reply in thread').fill('I can bring snacks');
      await alice.getByLabel('Reply in thread').press('Enter');
      await inThread(alice, 2).waitFor();
      // Bob's open panel shows it live; the root in everyone's history counts it; no history shows the reply.
      await inThread(bob, 2).locator('.bubble', { hasText: 'I can bring snacks' }).waitFor();
      await message(bob, 1).locator('.thread-line', { hasText: '1 reply' }).waitFor();
      await message(carol, 1).locator('.thread-line', { hasText: '1 reply' }).waitFor();
      assert.equal(await message(bob, 2).count(), 0, 'a thread-only reply is not in the main history');
      assert.equal(await message(carol, 2).count(), 0, 'nor in a history without the panel');
      await bob.locator('#thread-subtitle', { hasText: '1 reply' }).waitFor();

      // "Also send to chat": in the thread and in the history.
      await alice.getByLabel('Also send to chat').check();
      await alice.getByLabel('Reply in thread').fill('And drinks, everyone should know');
      await alice.getByLabel('Reply in thread').press('Enter');
      await inThread(bob, 3).waitFor();
      await message(bob, 3).locator('.thread-link', { hasText: 'Replied in a thread' }).waitFor();
      await message(carol, 1).locator('.thread-line', { hasText: '2 replies' }).waitFor();
      await shot(ctx, bob, 'desktop-thread-panel');
      await bob.emulateMedia({ colorScheme: 'dark' });
      await shot(ctx, bob, 'desktop-thread-panel-dark');
      await bob.emulateMedia({ colorScheme: 'light' });

      // Carol opens it from the root's "2 replies".
      await message(carol, 1).locator('.thread-line').click();
      await inThread(carol, 2).waitFor();
      await inThread(carol, 3).waitFor();
      await carol.locator('#thread-close').click();
      await carol.locator('#thread-panel').waitFor({ state: 'hidden' });
      // Bob replies while Alice's panel is closed: her thread (she wrote the root) has "1 new"; not Carol's.
      await alice.locator('#thread-close').click();
      await bob.getByLabel('Reply in thread').fill('Bob here');
      await bob.getByLabel('Reply in thread').press('Enter');
      await message(alice, 1).locator('.thread-line .thread-new', { hasText: '1 new' }).waitFor();
      await message(carol, 1).locator('.thread-line', { hasText: '3 replies' }).waitFor();
      assert.equal(await message(carol, 1).locator('.thread-new').count(), 0, 'Carol takes no part in it');
      await shot(ctx, alice, 'desktop-thread-unread');
      await message(alice, 1).locator('.thread-line').click();
      await inThread(alice, 4).waitFor();
      await message(alice, 1).locator('.thread-new').waitFor({ state: 'detached' });
      // The reply also sent to the chat opens its thread too.
      await message(carol, 3).locator('.thread-link').click();
      await inThread(carol, 2).waitFor();
      await carol.locator('#thread-close').click();
      await carol.locator('#thread-panel').waitFor({ state: 'hidden' });
    });

    it("reacts to, edits and deletes replies from the thread panel's menu, live in the others' panels", async (ctx) => {
      // Bob's panel is open on the thread; Alice's too. Bob's own reply #4 has Edit; no quote reply or pin there.
      await inThread(bob, 4).hover();
      await inThread(bob, 4).getByRole('button', { name: 'Message actions' }).click();
      await bob.locator('#message-menu').waitFor();
      assert.equal(await bob.getByRole('menuitem', { name: 'Reply', exact: true }).isHidden(), true);
      assert.equal(
        await bob.getByRole('menuitem', { name: 'Reply in thread', exact: true }).isHidden(),
        true,
      );
      assert.equal(await bob.getByRole('menuitem', { name: 'Pin', exact: true }).isHidden(), true);
      await shot(ctx, bob, 'desktop-thread-menu');
      await bob.getByRole('menuitem', { name: 'Edit', exact: true }).click();
      const reply = bob.getByLabel('Reply in thread');
      assert.equal(await reply.inputValue(), 'Bob here');
      await bob.locator('#thread-subtitle', { hasText: 'Editing your message' }).waitFor();
      await reply.fill('Bob here, with cake');
      await reply.press('Enter');
      await inThread(alice, 4).locator('.bubble', { hasText: 'Bob here, with cake' }).waitFor();
      await inThread(alice, 4).locator('time', { hasText: 'edited' }).waitFor();
      await bob.locator('#thread-subtitle', { hasText: '3 replies' }).waitFor();
      assert.equal(await reply.inputValue(), '', 'the composer is free again');

      // Alice reacts to reply #2 in her panel: Bob's panel counts it; her chip takes it back.
      await inThread(alice, 2).hover();
      await inThread(alice, 2).getByRole('button', { name: 'Message actions' }).click();
      await alice.getByRole('menuitemcheckbox', { name: 'React with 🎉' }).click();
      await inThread(bob, 2).locator('.reaction[data-emoji="🎉"] .count', { hasText: '1' }).waitFor();
      await inThread(alice, 2).locator('.reaction[data-emoji="🎉"][aria-pressed="true"]').waitFor();
      // Reply #3 is also in the history: the reaction shows in both places on Bob's page.
      await inThread(alice, 3).hover();
      await inThread(alice, 3).getByRole('button', { name: 'Message actions' }).click();
      await alice.getByRole('menuitemcheckbox', { name: 'React with 👍' }).click();
      await inThread(bob, 3).locator('.reaction[data-emoji="👍"]').waitFor();
      await message(bob, 3).locator('.reaction[data-emoji="👍"]').waitFor();
      await shot(ctx, bob, 'desktop-thread-reactions');
      await inThread(alice, 2).locator('.reaction[data-emoji="🎉"]').click();
      await inThread(bob, 2).locator('.reaction').waitFor({ state: 'detached' });

      // Bob deletes reply #4: it is deleted in Alice's panel, and the root counts 2 replies.
      await inThread(bob, 4).hover();
      await inThread(bob, 4).getByRole('button', { name: 'Message actions' }).click();
      bob.once('dialog', (dialog) => void dialog.accept());
      await bob.getByRole('menuitem', { name: 'Delete', exact: true }).click();
      await alice.locator('#thread-messages .message.deleted[data-seq="4"]').waitFor();
      await message(carol, 1).locator('.thread-line', { hasText: '2 replies' }).waitFor();
      assert.deepEqual(errors, [], 'no script errors on any page');
    });

    it('pages a long thread as the panel is scrolled up', async () => {
      const root = await bobApi.post<{ seq: number }>(`/v1/chats/${groupId}/messages`, {
        text: 'Long thread',
      });
      for (let n = 1; n <= 60; n += 1) {
        const sent = await aliceApi.post(`/v1/chats/${groupId}/messages`, {
          text: `Thread reply #${n}`,
          threadRoot: root.body.seq,
        });
        assert.equal(sent.status, 201);
      }
      await message(carol, root.body.seq).locator('.thread-line', { hasText: '60 replies' }).waitFor();
      await message(carol, root.body.seq).locator('.thread-line').click();
      await carol.locator('#thread-messages .bubble', { hasText: 'Thread reply #60' }).waitFor();
      assert.equal(
        await carol.locator('#thread-messages .bubble', { hasText: /^Thread reply #1$/ }).count(),
        0,
      );
      await carol.locator('#thread-messages').evaluate((element) => {
        element.scrollTop = 0;
      });
      await carol.locator('#thread-messages .bubble', { hasText: /^Thread reply #1$/ }).waitFor();
      assert.equal(await carol.locator('#thread-messages .message:not(.thread-root)').count(), 60);
      await carol.locator('#thread-close').click();
    });

    it('on a phone, shows the thread full screen with a back button', async (ctx) => {
      const phone = await signIn(browser, base, 'carol', errors, 'phone');
      await phone.locator(`.chat-item[data-chat-id="${groupId}"]`).click();
      await message(phone, 1).locator('.thread-line').click();
      await inThread(phone, 3).waitFor();
      assert.ok(await phone.locator('#chat').isHidden(), 'the thread alone');
      await bob.getByLabel('Reply in thread').fill('Count me in');
      await bob.getByLabel('Reply in thread').press('Enter');
      await phone.locator('#thread-messages .bubble', { hasText: 'Count me in' }).waitFor();
      await shot(ctx, phone, 'phone-thread-panel');
      await phone.getByRole('button', { name: 'Back to the chat' }).click();
      await phone.locator('#messages').waitFor();
      await message(phone, 1).locator('.thread-line', { hasText: '3 replies' }).waitFor();
      await phone.context().close();
    });

    it('completes @names from the chat members, highlights mentions of you, and badges the chat with "@"', async (ctx) => {
      const direct = await aliceApi.post<{ id: string }>('/v1/chats', { kind: 'direct', members: ['carol'] });
      directId = direct.body.id;
      await carol.locator(`.chat-item[data-chat-id="${directId}"]`).waitFor();
      await open(carol, directId);

      // Bob types "@": Alice and Carol (not himself); down and Enter take Carol.
      await bob.locator('#thread-close').click();
      const composer = bob.getByLabel('Message', { exact: true });
      await composer.pressSequentially('Ask @');
      await bob.locator('#composer-mentions .mention-option').first().waitFor();
      assert.deepEqual(
        await bob
          .locator('#composer-mentions .mention-option')
          .evaluateAll((items) => items.map((item) => item.getAttribute('data-username'))),
        ['alice', 'carol'],
      );
      await composer.press('ArrowDown');
      await bob
        .locator('#composer-mentions .mention-option[aria-selected="true"][data-username="carol"]')
        .waitFor();
      await shot(ctx, bob, 'desktop-mention-autocomplete');
      await composer.press('Enter');
      assert.equal(await composer.inputValue(), 'Ask @carol ');
      // "@al" and a click.
      await composer.pressSequentially('and @al');
      assert.equal(await bob.locator('#composer-mentions .mention-option').count(), 1);
      await bob.locator('#composer-mentions .mention-option[data-username="alice"]').click();
      await composer.pressSequentially('about Friday');
      assert.equal(await composer.inputValue(), 'Ask @carol and @alice about Friday');
      await composer.press('Enter');

      // Carol, in another chat, sees "@" on the group; opening it shows her name highlighted.
      const item = carol.locator(`.chat-item[data-chat-id="${groupId}"]`);
      await item.locator('.mention-badge').waitFor();
      await shot(ctx, carol, 'desktop-mention-badge');
      await item.click();
      const mention = carol.locator('#messages .message.mentions-me .mention.mention-me', {
        hasText: '@carol',
      });
      await mention.waitFor();
      await carol.locator('#messages .mention:not(.mention-me)', { hasText: '@alice' }).last().waitFor();
      await item.locator('.mention-badge').waitFor({ state: 'detached' });
      await shot(ctx, carol, 'desktop-mention-highlight');
      await carol.emulateMedia({ colorScheme: 'dark' });
      await shot(ctx, carol, 'desktop-mention-highlight-dark');
      await carol.emulateMedia({ colorScheme: 'light' });
    });

    it('mutes a chat (out of the title count, 🔕 in the list) and archives one (an "Archived" section)', async (ctx) => {
      await open(carol, directId);
      await carol.getByRole('button', { name: 'Chat options' }).click();
      await carol.getByRole('menuitem', { name: 'Archive' }).click();
      const archived = carol.locator(`.chat-list .list-section + li .chat-item[data-chat-id="${directId}"]`);
      await archived.waitFor();
      await open(carol, groupId);
      await carol.getByRole('button', { name: 'Chat options' }).click();
      await carol.getByRole('menuitem', { name: 'Mute for 1 hour', exact: true }).click();
      await carol.locator(`.chat-item[data-chat-id="${groupId}"] .muted-icon`).waitFor();
      assert.match(
        (await carol.locator(`.chat-item[data-chat-id="${groupId}"] .muted-icon`).getAttribute('title')) ??
          '',
        /^Muted until (\w+ \d+ )?\d\d:\d\d$/,
      );
      await carol.getByRole('button', { name: 'Chat options' }).click();
      await carol.locator('#chat-muted-until', { hasText: /^Muted until / }).waitFor();
      assert.equal(
        await carol.getByRole('menuitem', { name: 'Mute for 1 hour', exact: true }).isHidden(),
        true,
      );
      await shot(ctx, carol, 'desktop-chat-menu-muted');
      await carol.keyboard.press('Escape');
      // Carol looks at the archived chat; Alice writes in the muted group and in it.
      await open(carol, directId);
      await bob.getByLabel('Message', { exact: true }).fill('Anyone?');
      await bob.getByLabel('Message', { exact: true }).press('Enter');
      await carol.locator(`.chat-item[data-chat-id="${groupId}"] .badge`, { hasText: '1' }).waitFor();
      assert.equal(await carol.title(), 'Parley', 'a muted chat is not in the title count');
      await shot(ctx, carol, 'desktop-muted-archived');
      // Unmuted, it counts again.
      await open(carol, groupId);
      await carol.getByRole('button', { name: 'Chat options' }).click();
      await carol.getByRole('menuitem', { name: 'Unmute', exact: true }).click();
      await carol.locator(`.chat-item[data-chat-id="${groupId}"] .muted-icon`).waitFor({ state: 'detached' });
      await open(carol, directId);
      await bob.getByLabel('Message', { exact: true }).fill('Carol?');
      await bob.getByLabel('Message', { exact: true }).press('Enter');
      await until(async () => (await carol.title()) === '(1) Parley', 'the unmuted group counts');
      // Bob's page shows nothing of Carol's settings: the group is an ordinary chat there.
      assert.equal(await bob.locator('.chat-list .list-section').count(), 0);

      // Carol hides the group: it closes and leaves her list (also after a reload), until its next message.
      await open(carol, groupId);
      await carol.getByRole('button', { name: 'Chat options' }).click();
      await carol.getByRole('menuitem', { name: 'Hide until a new message', exact: true }).click();
      await carol.locator(`.chat-item[data-chat-id="${groupId}"]`).waitFor({ state: 'detached' });
      assert.equal(await carol.locator('#messages').isHidden(), true, 'the hidden chat closed');
      await carol.reload();
      await carol.locator(`.chat-item[data-chat-id="${directId}"]`).waitFor();
      assert.equal(await carol.locator(`.chat-item[data-chat-id="${groupId}"]`).count(), 0);
      await shot(ctx, carol, 'desktop-chat-hidden');
      await bob.getByLabel('Message', { exact: true }).fill('Back again');
      await bob.getByLabel('Message', { exact: true }).press('Enter');
      await carol
        .locator(`.chat-item[data-chat-id="${groupId}"] .preview`, { hasText: 'Back again' })
        .waitFor();
      assert.deepEqual(errors, [], 'no script errors on any page');
    });

    it('sends a photo and a file from the composer: uploaded with progress, the photo inline for the others', async (ctx) => {
      await open(bob, groupId);
      await open(carol, groupId);
      const photo = { name: 'sunset.png', mimeType: 'image/png', buffer: picture(240, 160) };
      const notes = { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('Bring a torch.\n') };
      await bob.locator('#file-input').setInputFiles([photo, notes]);
      await bob.locator('.composer-file.ready[data-name="sunset.png"]').waitFor();
      await bob.locator('.composer-file.ready[data-name="notes.txt"]').waitFor();
      await bob.getByLabel('Message', { exact: true }).fill('Tonight, from the roof');
      await shot(ctx, bob, 'desktop-files-composer');
      await bob.getByLabel('Message', { exact: true }).press('Enter');
      await bob.locator('#composer-files').waitFor({ state: 'hidden' });

      // Carol sees the photo drawn (a signed link, no token) and the other file as a download link.
      const sent = carol.locator('#messages .message', {
        has: carol.locator('.bubble', { hasText: 'Tonight, from the roof' }),
      });
      const image = sent.locator('img.attachment-image[alt="sunset.png"]');
      await image.waitFor();
      await until(
        async () =>
          (await image.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)) === 240,
        'the photo is loaded',
      );
      const link = sent.locator('a.attachment-file', { hasText: 'notes.txt' });
      await until(
        async () => ((await link.getAttribute('href')) ?? '').includes('/files/'),
        'a download link',
      );
      const download = await fetch(new URL((await link.getAttribute('href'))!, base));
      assert.equal(download.status, 200);
      assert.equal(await download.text(), 'Bring a torch.\n');
      assert.match(download.headers.get('content-disposition') ?? '', /^attachment/);
      await shot(ctx, carol, 'desktop-files-message');

      // A type the server refuses is said on its chip, and is not sent.
      const refused = { name: 'page.html', mimeType: 'text/html', buffer: Buffer.from('<p>hi</p>') };
      await bob.locator('#file-input').setInputFiles([refused]);
      const chip = bob.locator('.composer-file[data-name="page.html"]');
      await chip.waitFor();
      await bob
        .locator('.composer-file.refused[data-name="page.html"], .composer-file.ready[data-name="page.html"]')
        .waitFor();
      await chip.getByRole('button', { name: 'Remove page.html' }).click();
      await chip.waitFor({ state: 'detached' });
      assert.deepEqual(errors, [], 'no script errors on any page');
    });
  },
);
