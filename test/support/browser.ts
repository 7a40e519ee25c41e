import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page, type WebSocketRoute } from 'playwright-core';

/** Debian's Chromium (CI installs it with apt), or the one PARLEY_CHROMIUM names. */
export const CHROMIUM = [process.env.PARLEY_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (candidate): candidate is string => candidate !== undefined && candidate !== '' && existsSync(candidate),
);

/** `describe`'s skip option: a reason when there is no Chromium. */
export const skipWithoutChromium = CHROMIUM
  ? false
  : 'Chromium was not found (apt-get install chromium, or set PARLEY_CHROMIUM): the browser test is skipped';

/** Headless Chromium, frugal: no GPU, no background traffic. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM!,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export const DESKTOP = { width: 1100, height: 700 };
/** A phone-sized screen, touch only. */
export const PHONE = { width: 390, height: 844 };

/** The page's WebSockets, passed through to the server, which a test may cut and hold off. */
export class SocketSwitch {
  readonly open: WebSocketRoute[] = [];
  /** New connections are refused while held. */
  held = false;

  /** Cuts every connection (the page sees the server close it) and refuses new ones until `release`. */
  async cut(): Promise<void> {
    this.held = true;
    await Promise.all(
      this.open.splice(0).map((socket) => socket.close({ code: 4000, reason: 'cut by the test' })),
    );
  }

  release(): void {
    this.held = false;
  }

  route(socket: WebSocketRoute): void {
    if (this.held) {
      void socket.close({ code: 4000, reason: 'held by the test' });
      return;
    }
    socket.connectToServer();
    this.open.push(socket);
  }
}

/**
 * A browser context of its own (its own storage: another person) on the demo page at `base`, signed in as
 * `userId`; script errors go to `errors`. With `sockets`, its WebSockets go through that switch.
 */
export async function signIn(
  browser: Browser,
  base: string,
  userId: string,
  errors: string[],
  screen: 'desktop' | 'phone' = 'desktop',
  sockets?: SocketSwitch,
): Promise<Page> {
  const context = await browser.newContext(
    screen === 'phone'
      ? { viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }
      : { viewport: DESKTOP },
  );
  if (sockets) {
    await context.routeWebSocket(/./, (socket) => sockets.route(socket));
  }
  const page = await context.newPage();
  page.on('pageerror', (error) => errors.push(`${userId}: ${error.message}`));
  await page.goto(`${base}/`);
  await page.getByLabel('User id').fill(userId);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.locator('#me-name', { hasText: userId }).waitFor();
  await page.locator('#connection-text', { hasText: 'live' }).waitFor();
  return page;
}
