import type { Actor } from '../auth/actor.ts';
import type { Context } from '../context.ts';
import {
  holdPresence,
  markOffline,
  markOnline,
  refreshPresence,
  releaseNode,
  releasePresence,
} from './presence.repository.ts';
import { userEvent } from './user.events.ts';

/**
 * Presence as the streams make it: a user is online while some process holds a connection of theirs. Each process
 * (`nodeId`) keeps a row per user it holds, renewed by its heartbeat until `ttlMs` from now; a process that dies
 * stops renewing, and its users go offline once the rows expire.
 */

/** The user's first stream on this process opened: hold their presence, and publish `online` if they were offline. */
export async function streamOpened(ctx: Context, actor: Actor, nodeId: string, ttlMs: number): Promise<void> {
  await holdPresence(ctx.db, actor.tenantId, actor.userId, nodeId, ttlMs);
  if (await markOnline(ctx.db, actor.tenantId, actor.userId)) {
    ctx.events.publish(
      userEvent('presence', actor.tenantId, { tenant: true }, { userId: actor.userId, status: 'online' }),
    );
  }
}

/** The user's last stream on this process closed: offline, unless another process still holds them. */
export async function streamsClosed(ctx: Context, actor: Actor, nodeId: string): Promise<void> {
  await releasePresence(ctx.db, actor.tenantId, actor.userId, nodeId);
  await retireOffline(ctx, { tenantId: actor.tenantId, userId: actor.userId });
}

/** Heartbeat: keep this process's presence alive, and retire the users whose every process is gone. */
export async function renewPresence(ctx: Context, nodeId: string, ttlMs: number): Promise<void> {
  await refreshPresence(ctx.db, nodeId, ttlMs);
  await retireOffline(ctx);
}

/** The process stops: its users are offline unless another process holds them. */
export async function releaseProcess(ctx: Context, nodeId: string): Promise<void> {
  await releaseNode(ctx.db, nodeId);
  await retireOffline(ctx);
}

async function retireOffline(ctx: Context, only?: { tenantId: string; userId: string }): Promise<void> {
  for (const row of await markOffline(ctx.db, only)) {
    ctx.events.publish(
      userEvent('presence', row.tenant_id, { tenant: true }, { userId: row.id, status: 'offline' }),
    );
  }
}
