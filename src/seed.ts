import { pino } from 'pino';
import { mintToken } from './auth/token.ts';
import type { Actor } from './auth/actor.ts';
import { createChat } from './chats/chat.service.ts';
import type { Config } from './config.ts';
import type { Context } from './context.ts';
import { openStore } from './db/connect.ts';
import { migrateToLatest } from './db/migrate.ts';
import { MessageBatcher } from './messages/message.batcher.ts';
import { sendMessage } from './messages/message.service.ts';
import { LocalBus } from './realtime/buses/local.ts';
import { KnownUsers, provisionActor } from './users/user.service.ts';

const DEMO = ['alice', 'bob', 'carol'];

/** Demo data for a first look: three users in a group chat with a first message; prints a token for each. */
export async function seed(config: Config): Promise<void> {
  const store = await openStore(config.database);
  try {
    await migrateToLatest(store.unbounded);
    const log = pino({ level: 'silent' });
    // Seeding runs without a server: nobody is connected to hear its events.
    const ctx: Context = {
      db: store.db,
      limits: config.limits,
      events: new LocalBus(log),
      log,
      sends: new MessageBatcher(store.db, { maxInFlight: 1, maxBatch: 500 }),
    };
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
    await store.close();
  }
}
