import { pino } from 'pino';
import { mintToken } from './auth/token.ts';
import type { Actor } from './auth/actor.ts';
import { createChat } from './chats/chat.service.ts';
import type { Config } from './config.ts';
import { sendMessage } from './messages/message.service.ts';
import { openRuntime } from './runtime.ts';
import { KnownUsers, provisionActor } from './users/user.service.ts';

const DEMO = ['alice', 'bob', 'carol'];

/** Demo data for a first look: three users in a group chat with a first message; prints a token for each. */
export async function seed(config: Config): Promise<void> {
  // Seeding serves no streams: its events go nowhere.
  const runtime = await openRuntime(
    { ...config, migrate: true },
    { log: pino({ level: 'silent' }), fanOut: false },
  );
  try {
    const { ctx } = runtime;
    const known = new KnownUsers();
    const actors: Actor[] = DEMO.map((id) => ({
      tenantId: 'default',
      userId: id,
      isAdmin: id === 'alice',
      permissions: [],
      profile: { username: id, displayName: id[0]!.toUpperCase() + id.slice(1) },
    }));
    for (const actor of actors) {
      await provisionActor(ctx, known, actor);
    }
    const alice = actors[0]!;
    try {
      const { chat } = await createChat(ctx, alice, {
        kind: 'group',
        name: 'general',
        members: ['bob', 'carol'],
      });
      await sendMessage(ctx, alice, chat.id, { text: 'Welcome to Parley!', clientId: 'seed-welcome' });
      console.log(`group "general": ${chat.id}`);
    } catch (error) {
      console.log(`group "general" not created: ${error instanceof Error ? error.message : String(error)}`);
    }
    for (const actor of actors) {
      console.log(
        `${actor.userId}: ${await mintToken(config.jwt, { sub: actor.userId, admin: actor.isAdmin })}`,
      );
    }
  } finally {
    await runtime.close();
  }
}
