import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createTestApp, type TestApp } from './app.ts';
import { launchChromium } from './browser.ts';

/** The demo page tests' screenshots, to look at (tmp/ is not committed). */
export const SHOTS = path.resolve(import.meta.dirname, '..', '..', 'tmp', 'e2e-demo');

/**
 * A server for a demo page test, listening on a free port, and headless Chromium. Rate limits are off: the tests
 * seed faster than a person sends.
 */
export async function startDemoPage(): Promise<{ t: TestApp; base: string; browser: Browser }> {
  const t = await createTestApp({ PARLEY_RATE_LIMIT_USER: '0', PARLEY_RATE_LIMIT_IP: '0' });
  const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  const browser = await launchChromium();
  mkdirSync(SHOTS, { recursive: true });
  return { t, base, browser };
}

export async function stopDemoPage(t: TestApp | undefined, browser: Browser | undefined): Promise<void> {
  await browser?.close();
  await t?.close();
}

/** A screenshot of `page` in SHOTS, its path printed in the test's output. */
export async function shot(ctx: TestContext, page: Page, name: string): Promise<void> {
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  ctx.diagnostic(`screenshot: ${file}`);
}

/** Opens a chat from the list by its id. */
export async function openChat(page: Page, chatId: string): Promise<void> {
  await page.locator(`.chat-item[data-chat-id="${chatId}"]`).click();
  await page.locator(`.chat-item[data-chat-id="${chatId}"][aria-current="true"]`).waitFor();
}

/** A message of the open chat's history, by seq. */
export function messageAt(page: Page, seq: number) {
  return page.locator(`#messages .message[data-seq="${seq}"]`);
}

/** Opens the menu of a message of the history. */
export async function openMessageMenu(page: Page, seq: number): Promise<void> {
  await messageAt(page, seq).hover();
  await messageAt(page, seq).getByRole('button', { name: 'Message actions' }).click();
  await page.locator('#message-menu').waitFor();
}
