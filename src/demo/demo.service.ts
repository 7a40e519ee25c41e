import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { mintToken } from '../auth/token.ts';
import type { JwtConfig } from '../auth/jwt.config.ts';
import { AppError } from '../errors/codes.ts';
import type { DevTokenBody, DevTokenView } from './demo.schema.ts';

const DEV_TOKEN_TTL_SECONDS = 12 * 3600;
const USERNAME = /^[\p{L}\p{N}._@+-]{1,64}$/u;

/**
 * The package's root (where `web/` and the client's source, `packages/client/src/`, are), from src/demo or a build's
 * dist/src/demo alike.
 */
function packageRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error('the demo page cannot find the package root');
    }
    dir = parent;
  }
  return dir;
}

export const DEMO_ROOT = packageRoot();

/** The page's files, by the name they are served under, with their media types. */
/** The page's ES modules, one concern each; app.js, which index.html loads, imports the others. */
const DEMO_MODULES = [
  'app.js',
  'chats.js',
  'composer.js',
  'dom.js',
  'files.js',
  'history.js',
  'live.js',
  'members.js',
  'mentions.js',
  'menu.js',
  'message-view.js',
  'moderation.js',
  'names.js',
  'new-chat.js',
  'pins.js',
  'reports.js',
  'profile.js',
  'receipts.js',
  'search.js',
  'settings.js',
  'signin.js',
  'state.js',
  'thread-line.js',
  'thread.js',
];

export const DEMO_FILES: Record<string, string> = {
  ...Object.fromEntries(DEMO_MODULES.map((name) => [name, 'text/javascript; charset=utf-8'])),
  'style.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

export async function readDemoFile(name: string): Promise<string> {
  return readFile(path.join(DEMO_ROOT, 'web', name), 'utf8');
}

let bundle: Promise<string> | null = null;

/**
 * The typed client (the parley-chat-client package's source, which this package carries for the page) as one ES
 * module for the browser, bundled on first request and kept. It imports nothing of the server.
 */
export function clientBundle(): Promise<string> {
  bundle ??= (async () => {
    const { build } = await import('esbuild');
    const result = await build({
      entryPoints: [path.join(DEMO_ROOT, 'packages', 'client', 'src', 'index.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      legalComments: 'none',
      logLevel: 'silent',
    });
    const output = result.outputFiles[0];
    if (!output) {
      throw new Error('the client bundle is empty');
    }
    return output.text;
  })();
  bundle.catch(() => {
    bundle = null;
  });
  return bundle;
}

/** A token for anyone: the demo's sign-in, outside production only (the route is not registered there). */
export async function devToken(jwt: JwtConfig, body: DevTokenBody): Promise<DevTokenView> {
  if (!jwt.secret) {
    throw new AppError('unavailable', 'development tokens need an HS256 secret (JWT_SECRET)');
  }
  const token = await mintToken(jwt, {
    sub: body.userId,
    ...(USERNAME.test(body.userId) ? { username: body.userId } : {}),
    ...(body.name ? { name: body.name } : {}),
    ...(body.admin ? { admin: true } : {}),
    ttlSeconds: DEV_TOKEN_TTL_SECONDS,
  });
  return { token, userId: body.userId, expiresIn: DEV_TOKEN_TTL_SECONDS };
}
