import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { DeliveryStatus, WebhookOutboxRow } from './webhook.table.ts';

/**
 * The outbox (migration 0024): written by the triggers, read and updated by the delivery worker, listed as the
 * delivery log. An event is due when it is pending, its time has come, no live lease holds it, and it is the oldest
 * pending event of its subscription and chat (the order key).
 */

/** A claimed event with what it takes to send it. */
export interface ClaimedRow extends WebhookOutboxRow {
  url: string;
  secret: string;
}

/**
 * Due events, oldest first, skipping subscriptions in `busy`: candidates, not yet leased. Only the head of each
 * queue (the oldest pending event of a subscription and chat) can be due: the heads are found by a skip scan of
 * `webhook_outbox_queue_idx`, one probe per queue, however long the queues behind them are.
 */
export async function dueEvents(
  db: Db,
  busy: string[],
  limit: number,
): Promise<{ id: number; subscription_id: string }[]> {
  const result = await sql<{ id: number; subscription_id: string }>`
    with recursive heads (subscription_id, chat_id, id) as (
      (select subscription_id, chat_id, id from webhook_outbox
       where status = 'pending'
       order by subscription_id, chat_id, id
       limit 1)
      union all
      select n.subscription_id, n.chat_id, n.id
      from heads h, lateral (
        select subscription_id, chat_id, id from webhook_outbox
        where status = 'pending' and (subscription_id, chat_id) > (h.subscription_id, h.chat_id)
        order by subscription_id, chat_id, id
        limit 1) n
    )
    select o.id, o.subscription_id
    from heads h
    join webhook_outbox o on o.id = h.id
    join webhook_subscriptions w on w.id = o.subscription_id and w.enabled
    where o.next_at <= now() and (o.lease_until is null or o.lease_until < now())
      and o.subscription_id <> all (${busy}::text[])
    order by o.next_at, o.id
    limit ${limit}`.execute(db);
  return result.rows;
}

/**
 * Leases the given events for `leaseMs`: only those still pending and not leased meanwhile by another process (rows
 * another process is leasing right now are skipped, not waited for). What this returns is this process's to send.
 */
export async function leaseEvents(db: Db, ids: number[], leaseMs: number): Promise<ClaimedRow[]> {
  if (ids.length === 0) {
    return [];
  }
  const result = await sql<ClaimedRow>`
    with leased as (
      update webhook_outbox set lease_until = now() + ${leaseMs} * interval '1 millisecond', attempts = attempts + 1
      where id in (
        select id from webhook_outbox
        where id = any (${ids}::bigint[]) and status = 'pending'
          and (lease_until is null or lease_until < now())
        for update skip locked)
      returning *
    )
    select l.*, w.url, w.secret
    from leased l join webhook_subscriptions w on w.id = l.subscription_id
    order by l.id`.execute(db);
  return result.rows;
}

/**
 * Leases, behind each head this process has just leased, the next pending events of its queue (up to `limit`
 * each), to send one after the other. No other process leases them: while their head is pending and leased, they
 * are never due anywhere.
 */
export async function leaseFollowers(
  db: Db,
  heads: number[],
  limit: number,
  leaseMs: number,
): Promise<ClaimedRow[]> {
  if (heads.length === 0 || limit <= 0) {
    return [];
  }
  const result = await sql<ClaimedRow>`
    with leased as (
      update webhook_outbox o
      set lease_until = now() + ${leaseMs} * interval '1 millisecond', attempts = o.attempts + 1
      from (
        select f.id
        from webhook_outbox h
        cross join lateral (
          select x.id from webhook_outbox x
          where x.subscription_id = h.subscription_id and x.chat_id = h.chat_id and x.status = 'pending'
            and x.id > h.id
          order by x.id
          limit ${limit}) f
        where h.id = any (${heads}::bigint[])
      ) f
      where o.id = f.id
      returning o.*
    )
    select l.*, w.url, w.secret
    from leased l join webhook_subscriptions w on w.id = l.subscription_id
    order by l.id`.execute(db);
  return result.rows;
}

/** Events the receivers took (2xx), in one statement. */
export async function markDelivered(db: Db, delivered: { id: number; status: number }[]): Promise<void> {
  if (delivered.length === 0) {
    return;
  }
  await sql`
    update webhook_outbox o
    set status = 'delivered', delivered_at = now(), lease_until = null, last_status = d.status, last_error = null
    from unnest(${delivered.map((d) => d.id)}::bigint[], ${delivered.map((d) => d.status)}::int[]) as d (id, status)
    where o.id = d.id`.execute(db);
}

/** A failed attempt: retried at `retryInMs` from now, or dead once the event is older than the window. */
export async function markFailed(
  db: Db,
  id: number,
  outcome: { status: number | null; error: string; retryInMs: number; windowMs: number },
): Promise<DeliveryStatus> {
  const result = await sql<{ status: DeliveryStatus }>`
    update webhook_outbox
    set lease_until = null, last_status = ${outcome.status}, last_error = ${outcome.error.slice(0, 500)},
        status = case when created_at + ${outcome.windowMs} * interval '1 millisecond' <= now()
                      then 'dead' else 'pending' end,
        next_at = now() + ${outcome.retryInMs} * interval '1 millisecond'
    where id = ${id}::bigint
    returning status`.execute(db);
  return result.rows[0]?.status ?? 'dead';
}

/** The delivery log of a subscription, newest first. */
export async function listDeliveries(
  db: Db,
  subscriptionId: string,
  page: { status?: DeliveryStatus; before?: number; limit: number },
): Promise<WebhookOutboxRow[]> {
  const status = page.status === undefined ? sql`` : sql`and status = ${page.status}`;
  const before = page.before === undefined ? sql`` : sql`and id < ${page.before}`;
  const result = await sql<WebhookOutboxRow>`
    select * from webhook_outbox
    where subscription_id = ${subscriptionId} ${status} ${before}
    order by id desc
    limit ${page.limit}`.execute(db);
  return result.rows;
}

/** A copy of a delivered or dead event, pending at the end of its chat's queue; undefined when there is none. */
export async function redeliver(
  db: Db,
  subscriptionId: string,
  id: string,
): Promise<WebhookOutboxRow | undefined> {
  const result = await sql<WebhookOutboxRow>`
    insert into webhook_outbox (subscription_id, tenant_id, chat_id, type, payload, redelivery_of)
    select subscription_id, tenant_id, chat_id, type, payload, id
    from webhook_outbox where subscription_id = ${subscriptionId} and id = ${id}::bigint
    returning *`.execute(db);
  return result.rows[0];
}

export async function findDelivery(
  db: Db,
  subscriptionId: string,
  id: string,
): Promise<WebhookOutboxRow | undefined> {
  const result = await sql<WebhookOutboxRow>`
    select * from webhook_outbox
    where subscription_id = ${subscriptionId} and id = ${id}::bigint`.execute(db);
  return result.rows[0];
}

/** Who a new message's event names: the users it mentions, and the other members with no live stream anywhere. */
export interface Recipients {
  offline: string[];
  mentioned: string[];
}

/** The recipients of each message (by chat and seq), read when its event is sent. */
export async function recipientsOf(
  db: Db,
  keys: { chatId: string; seq: number; authorId: string }[],
): Promise<Map<string, Recipients>> {
  const found = new Map<string, Recipients>();
  if (keys.length === 0) {
    return found;
  }
  const result = await sql<{
    chat_id: string;
    seq: number;
    offline: string[] | null;
    mentioned: string[] | null;
  }>`
    select k.chat_id, k.seq,
           (select array_agg(me.user_id order by me.user_id) from members me
             where me.chat_id = k.chat_id and me.user_id <> k.author_id
               and not exists (
                 select 1 from presence p
                 where p.tenant_id = me.tenant_id and p.user_id = me.user_id and p.expires_at > now())) as offline,
           (select array_agg(distinct mm.user_id order by mm.user_id) from message_mentions mm
             where mm.chat_id = k.chat_id and mm.seq = k.seq and mm.user_id is not null) as mentioned
    from unnest(${keys.map((k) => k.chatId)}::text[], ${keys.map((k) => k.seq)}::bigint[],
                ${keys.map((k) => k.authorId)}::text[]) as k (chat_id, seq, author_id)`.execute(db);
  for (const row of result.rows) {
    found.set(`${row.chat_id}:${Number(row.seq)}`, {
      offline: row.offline ?? [],
      mentioned: row.mentioned ?? [],
    });
  }
  return found;
}

/** Gives leased events back, unsent: they are due again at once, to whichever process takes them. */
export async function releaseLeases(db: Db, ids: number[]): Promise<void> {
  if (ids.length === 0) {
    return;
  }
  await sql`
    update webhook_outbox set lease_until = null, attempts = attempts - 1
    where id = any (${ids}::bigint[]) and status = 'pending'`.execute(db);
}

/** Deletes up to `limit` delivered or dead events recorded before `before`; returns how many. */
export async function pruneLog(db: Db, before: Date, limit: number): Promise<number> {
  const result = await sql`
    delete from webhook_outbox where id in (
      select id from webhook_outbox where status <> 'pending' and created_at < ${before} limit ${limit}
    )`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
