import { sql, type Kysely } from 'kysely';
import { quotedCurrentSchema } from './schema.ts';

/**
 * Webhooks (docs/webhooks.md). `webhook_subscriptions`: a tenant's targets (URL, secret, event types, enabled).
 * `webhook_outbox`: one row per event and subscription, written by triggers in the statement that makes the change
 * (a send, a change recorded in `chat_changes`, a membership, a chat, a report), so that an event is committed with
 * its change or not at all; the delivery worker sends the rows in id order per subscription and chat, and keeps on
 * them what happened (attempts, last status, delivered or dead). The send function is not changed: the trigger on
 * `messages` runs at the end of its statement: a new message's event carries the message as it was sent. With no
 * enabled subscription in the database, each trigger stops
 * at one index probe.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table webhook_subscriptions (
      id text primary key,
      tenant_id text not null,
      url text not null,
      secret text not null,
      -- null: every event type.
      event_types text[],
      enabled boolean not null default true,
      description text,
      created_by text not null,
      created_at timestamptz not null default date_trunc('milliseconds', now()),
      updated_at timestamptz not null default date_trunc('milliseconds', now())
    )`.execute(db);
  await sql`create index webhook_subscriptions_tenant_idx on webhook_subscriptions (tenant_id, created_at, id)`.execute(
    db,
  );
  await sql`create index webhook_subscriptions_enabled_idx on webhook_subscriptions (tenant_id) where enabled`.execute(
    db,
  );
  await sql`
    create table webhook_outbox (
      id bigint generated always as identity primary key,
      subscription_id text not null references webhook_subscriptions (id) on delete cascade,
      tenant_id text not null,
      -- The order key: events of one chat go out one after the other, in id order ('' for events of no chat).
      chat_id text not null,
      type text not null,
      payload jsonb not null,
      status text not null default 'pending' check (status in ('pending', 'delivered', 'dead')),
      attempts integer not null default 0,
      next_at timestamptz not null default now(),
      lease_until timestamptz,
      last_status integer,
      last_error text,
      redelivery_of bigint,
      created_at timestamptz not null default now(),
      delivered_at timestamptz
    )`.execute(db);
  await sql`create index webhook_outbox_due_idx on webhook_outbox (next_at, id) where status = 'pending'`.execute(
    db,
  );
  await sql`
    create index webhook_outbox_queue_idx on webhook_outbox (subscription_id, chat_id, id)
    where status = 'pending'`.execute(db);
  await sql`create index webhook_outbox_log_idx on webhook_outbox (subscription_id, id)`.execute(db);
  await sql`create index webhook_outbox_done_idx on webhook_outbox (created_at) where status <> 'pending'`.execute(
    db,
  );
  const s = await quotedCurrentSchema(db);
  for (const trigger of triggers(s)) {
    await sql.raw(trigger).execute(db);
  }
}

/** One trigger: a statement-level function over the rows the statement wrote (or removed). */
function trigger(
  s: string,
  name: string,
  table: string,
  event: 'insert' | 'delete',
  select: string,
): string[] {
  const fn = `${s}.parley_webhook_${name}`;
  const transition = event === 'insert' ? 'new table as changed' : 'old table as changed';
  return [
    `create or replace function ${fn}() returns trigger language plpgsql as $body$
begin
  if not exists (select 1 from ${s}.webhook_subscriptions where enabled) then
    return null;
  end if;
  insert into ${s}.webhook_outbox (subscription_id, tenant_id, chat_id, type, payload)
  select w.id, w.tenant_id, e.chat_id, e.type, e.payload
  from (${select}) e
  join ${s}.webhook_subscriptions w
    on w.tenant_id = e.tenant_id and w.enabled and (w.event_types is null or e.type = any (w.event_types))
  order by e.chat_id, e.ord, w.id;
  return null;
end
$body$`,
    `create trigger parley_webhook_${name} after ${event} on ${s}.${table}
       referencing ${transition} for each statement execute function ${fn}()`,
  ];
}

function triggers(s: string): string[] {
  return [
    ...trigger(
      s,
      'messages',
      'messages',
      'insert',
      `select c.tenant_id, r.chat_id, 'message.created' as type, r.seq as ord,
              jsonb_build_object('chatId', r.chat_id, 'seq', r.seq, 'row', to_jsonb(r)) as payload
       from changed r join ${s}.chats c on c.id = r.chat_id`,
    ),
    ...trigger(
      s,
      'changes',
      'chat_changes',
      'insert',
      `select c.tenant_id, r.chat_id, r.type, r.rev as ord, r.payload || jsonb_build_object('rev', r.rev) as payload
       from changed r join ${s}.chats c on c.id = r.chat_id`,
    ),
    ...trigger(
      s,
      'members_added',
      'members',
      'insert',
      `select r.tenant_id, r.chat_id, 'member.added' as type, 0 as ord,
              jsonb_build_object('chatId', r.chat_id, 'userId', r.user_id, 'role', r.role) as payload
       from changed r`,
    ),
    ...trigger(
      s,
      'members_removed',
      'members',
      'delete',
      `select r.tenant_id, r.chat_id, 'member.removed' as type, 0 as ord,
              jsonb_build_object('chatId', r.chat_id, 'userId', r.user_id) as payload
       from changed r`,
    ),
    ...trigger(
      s,
      'chats',
      'chats',
      'insert',
      `select r.tenant_id, r.id as chat_id, 'chat.created' as type, 0 as ord,
              jsonb_build_object('chatId', r.id, 'kind', r.kind, 'name', r.name, 'createdBy', r.created_by,
                                 'createdAt', r.created_at) as payload
       from changed r`,
    ),
    ...trigger(
      s,
      'reports',
      'message_reports',
      'insert',
      `select r.tenant_id, r.chat_id, 'report.created' as type, 0 as ord,
              jsonb_build_object('reportId', r.id, 'chatId', r.chat_id, 'seq', r.seq, 'reporterId', r.reporter_id,
                                 'authorId', r.author_id, 'reason', r.reason) as payload
       from changed r`,
    ),
  ];
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const s = await quotedCurrentSchema(db);
  for (const [name, table] of [
    ['messages', 'messages'],
    ['changes', 'chat_changes'],
    ['members_added', 'members'],
    ['members_removed', 'members'],
    ['chats', 'chats'],
    ['reports', 'message_reports'],
  ] as const) {
    await sql.raw(`drop trigger if exists parley_webhook_${name} on ${s}.${table}`).execute(db);
    await sql.raw(`drop function if exists ${s}.parley_webhook_${name}()`).execute(db);
  }
  await sql`drop table if exists webhook_outbox`.execute(db);
  await sql`drop table if exists webhook_subscriptions`.execute(db);
}
