import { pino } from 'pino';
import { mintToken } from './auth/token.ts';
import type { Actor } from './auth/actor.ts';
import { createChat } from './chats/chat.service.ts';
import type { Config } from './config.ts';
import { DataDirInUseError, describeHolder, liveHolder, type LockHolder } from './db/datadir-lock.ts';
import { sendMessage } from './messages/message.service.ts';
import { openRuntime, type Runtime } from './runtime.ts';
import { provisionActor } from './users/user.service.ts';

const DEMO = ['alice', 'bob', 'carol'];
const GROUP = { kind: 'group' as const, name: 'general', members: ['bob', 'carol'] };
const WELCOME = { text: 'Welcome to Parley!', clientId: 'seed-welcome' };
/** How long seed waits for a process that has the data directory open to start serving, or to let it go. */
const WAIT_FOR_HOLDER_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;

const displayName = (id: string) => id[0]!.toUpperCase() + id.slice(1);

/**
 * Demo data for a first look: three users in a group chat with a first message; prints a token for each.
 *
 * On an embedded database that a server has open (`npm start`, then `parley seed`), the data goes through that
 * server's API, so that it is the server's and stays: a second process cannot write into a PGlite directory beside
 * it. Seed finds the server's address in the directory's lock; a process that has it open without serving
 * (`parley migrate`, another seed, a server still starting) is waited for, up to WAIT_FOR_HOLDER_MS.
 */
export async function seed(config: Config): Promise<void> {
  const deadline = Date.now() + WAIT_FOR_HOLDER_MS;
  let told = false;
  let runtime: Runtime;
  for (;;) {
    try {
      // Seeding serves no streams: its events go nowhere.
      runtime = await openRuntime(
        { ...config, migrate: true },
        { log: pino({ level: 'silent' }), fanOut: false },
      );
      break;
    } catch (error) {
      if (!(error instanceof DataDirInUseError) || error.sameProcess) {
        throw error;
      }
      // Read again: a server that was starting may be serving by now, or a short command may be done.
      const holder = liveHolder(error.file);
      if (holder?.url) {
        return seedThroughServer(config, holder);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `seed: ${error.message}. It has not started serving the API within ${WAIT_FOR_HOLDER_MS / 1000} s, ` +
            'so seed cannot use it either.',
          { cause: error },
        );
      }
      if (holder && !told) {
        console.error(
          `seed: the data directory is in use by ${describeHolder(holder)}; waiting for it to serve or finish`,
        );
        told = true;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    await seedDirectly(config, runtime);
  } finally {
    await runtime.close();
  }
}

async function seedDirectly(config: Config, runtime: Runtime): Promise<void> {
  const { ctx } = runtime;
  const actors: Actor[] = DEMO.map((id) => ({
    tenantId: 'default',
    userId: id,
    isAdmin: id === 'alice',
    permissions: [],
    profile: { username: id, displayName: displayName(id) },
  }));
  for (const actor of actors) {
    await provisionActor(ctx, actor);
  }
  const alice = actors[0]!;
  try {
    const { chat } = await createChat(ctx, alice, GROUP);
    await sendMessage(ctx, alice, chat.id, WELCOME);
    console.log(`group "general": ${chat.id}`);
  } catch (error) {
    console.log(`group "general" not created: ${error instanceof Error ? error.message : String(error)}`);
  }
  await printTokens(config);
}

async function printTokens(config: Config): Promise<void> {
  for (const id of DEMO) {
    console.log(`${id}: ${await mintToken(config.jwt, { sub: id, admin: id === 'alice' })}`);
  }
}

/** The same demo data, created through the API of the server that has the data directory open. */
async function seedThroughServer(config: Config, server: LockHolder): Promise<void> {
  const url = server.url!;
  console.error(
    `seed: a Parley server has this data directory open (pid ${server.pid}); seeding through ${url}`,
  );
  const call = async (token: string, method: string, path: string, body?: unknown) => {
    let response: Response;
    try {
      response = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new Error(
        `seed: the server (pid ${server.pid}) has the data directory open but does not answer at ${url}: ` +
          `${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    const answer = (await response.json().catch(() => null)) as {
      id?: string;
      error?: { message?: string };
    } | null;
    if (response.status === 401) {
      throw new Error(
        `seed: the server at ${url} refused a token signed with this command's JWT settings ` +
          `(${answer?.error?.message ?? '401'}): run seed with the same JWT_SECRET and JWT_ISSUER as the server`,
      );
    }
    return { status: response.status, body: answer };
  };
  const tokens = new Map<string, string>();
  for (const id of DEMO) {
    // Short-lived, and carrying the profile: the server creates each user from its token on first sight.
    const token = await mintToken(config.jwt, {
      sub: id,
      admin: id === 'alice',
      username: id,
      name: displayName(id),
      ttlSeconds: 300,
    });
    tokens.set(id, token);
    const me = await call(token, 'GET', '/v1/me');
    if (me.status !== 200) {
      throw new Error(`seed: GET /v1/me as ${id} answered ${me.status}: ${me.body?.error?.message ?? ''}`);
    }
  }
  const alice = tokens.get('alice')!;
  const chat = await call(alice, 'POST', '/v1/chats', GROUP);
  if (chat.status === 201 && chat.body?.id) {
    const sent = await call(alice, 'POST', `/v1/chats/${chat.body.id}/messages`, WELCOME);
    if (sent.status !== 201 && sent.status !== 200) {
      throw new Error(
        `seed: the welcome message answered ${sent.status}: ${sent.body?.error?.message ?? ''}`,
      );
    }
    console.log(`group "general": ${chat.body.id}`);
  } else {
    console.log(`group "general" not created: ${chat.body?.error?.message ?? `status ${chat.status}`}`);
  }
  await printTokens(config);
}
