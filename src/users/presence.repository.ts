import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

/** Presence: this process holds a connection of the user until `ttlMs` from now (pushed forward by heartbeats). */
export async function holdPresence(db: Db, tenantId: string, userId: string, nodeId: string, ttlMs: number) {
  await sql`
    insert into presence (tenant_id, user_id, node_id, expires_at)
    values (${tenantId}, ${userId}, ${nodeId}, now() + ${ttlMs} * interval '1 millisecond')
    on conflict (tenant_id, user_id, node_id) do update set expires_at = excluded.expires_at`.execute(db);
}

export async function releasePresence(db: Db, tenantId: string, userId: string, nodeId: string) {
  await sql`delete from presence where tenant_id = ${tenantId} and user_id = ${userId} and node_id = ${nodeId}`.execute(
    db,
  );
}

/** Every process's presence rows of one user (a deleted user holds none). */
export async function clearPresence(db: Db, tenantId: string, userId: string) {
  await sql`delete from presence where tenant_id = ${tenantId} and user_id = ${userId}`.execute(db);
}

export async function refreshPresence(db: Db, nodeId: string, ttlMs: number) {
  await sql`update presence set expires_at = now() + ${ttlMs} * interval '1 millisecond' where node_id = ${nodeId}`.execute(
    db,
  );
}

export async function releaseNode(db: Db, nodeId: string) {
  await sql`delete from presence where node_id = ${nodeId}`.execute(db);
}

/** Offline → online when the user's first connection anywhere opens; a user who chose "busy" stays busy. */
export async function markOnline(db: Db, tenantId: string, userId: string): Promise<boolean> {
  const result = await sql`
    update users set status = 'online'
    where tenant_id = ${tenantId} and id = ${userId} and status = 'offline' and deleted_at is null
    returning id`.execute(db);
  return result.rows.length > 0;
}

/**
 * Online → offline for users without a live presence row: those whose last connection closed and those whose
 * process died (its rows expired). Optionally limited to one user.
 */
export async function markOffline(db: Db, only?: { tenantId: string; userId: string }) {
  await sql`delete from presence where expires_at < now()`.execute(db);
  const scope = only ? sql`and u.tenant_id = ${only.tenantId} and u.id = ${only.userId}` : sql``;
  const result = await sql<{ tenant_id: string; id: string }>`
    update users u set status = 'offline'
    where u.status = 'online' ${scope}
      and not exists (
        select 1 from presence p
        where p.tenant_id = u.tenant_id and p.user_id = u.id and p.expires_at > now())
    returning u.tenant_id, u.id`.execute(db);
  return result.rows;
}
