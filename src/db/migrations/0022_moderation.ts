import { sql, type Kysely } from 'kysely';
import { createFunctionStatement, sendFunction } from '../../messages/message.sql.ts';
import { quotedCurrentSchema } from './schema.ts';

/**
 * Moderation (docs/moderation.md). Mutes (`chat_mutes`: a member of a group who may not send until a time, or until
 * unmuted), bans (`chat_bans`: a user removed from a group who may not be added again until unbanned), blocks
 * (`user_blocks`: a user whose messages another refuses in their direct chat, and who may not open one with them),
 * reports of messages (`message_reports`: one per member and message) and the moderation log (`moderation_log`:
 * who did what to whom, when and why). And the send function (`parley_send_v2`, from 0021) learns the outcomes
 * `muted` and `blocked` (`src/messages/message.sql.ts`, whose text this installs; same arguments and result, so a
 * process of the previous version keeps calling it).
 */
export const installs = { sendFunction: 'b6b0c4a94b9102924e304dff7e3bfacf7ccfba4198fd63580a29f87b2ae6457b' };

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table chat_mutes (
      chat_id text not null references chats (id) on delete cascade,
      user_id text not null,
      tenant_id text not null,
      -- null: until unmuted.
      until timestamptz,
      reason text,
      muted_by text not null,
      created_at timestamptz not null default date_trunc('milliseconds', now()),
      primary key (chat_id, user_id)
    )`.execute(db);
  await sql`
    create table chat_bans (
      chat_id text not null references chats (id) on delete cascade,
      user_id text not null,
      tenant_id text not null,
      reason text,
      banned_by text not null,
      created_at timestamptz not null default date_trunc('milliseconds', now()),
      primary key (chat_id, user_id)
    )`.execute(db);
  await sql`create index chat_bans_order_idx on chat_bans (chat_id, created_at, user_id)`.execute(db);
  await sql`
    create table user_blocks (
      tenant_id text not null,
      blocker_id text not null,
      blocked_id text not null,
      created_at timestamptz not null default date_trunc('milliseconds', now()),
      primary key (tenant_id, blocker_id, blocked_id)
    )`.execute(db);
  await sql`
    create table message_reports (
      id text primary key,
      tenant_id text not null,
      chat_id text not null,
      seq bigint not null,
      reporter_id text not null,
      author_id text not null,
      reason text not null,
      status text not null default 'open' check (status in ('open', 'resolved')),
      action text check (action in ('delete_message', 'mute_author', 'ban_author', 'dismiss')),
      resolved_by text,
      resolved_at timestamptz,
      created_at timestamptz not null default date_trunc('milliseconds', now()),
      unique (chat_id, seq, reporter_id),
      foreign key (chat_id, seq) references messages (chat_id, seq) on delete cascade
    )`.execute(db);
  await sql`create index message_reports_status_idx on message_reports (tenant_id, status, created_at, id)`.execute(
    db,
  );
  await sql`
    create table moderation_log (
      id text primary key,
      tenant_id text not null,
      chat_id text,
      actor_id text not null,
      action text not null,
      target_user_id text,
      seq bigint,
      report_id text,
      reason text,
      until timestamptz,
      at timestamptz not null default date_trunc('milliseconds', now())
    )`.execute(db);
  await sql`create index moderation_log_tenant_idx on moderation_log (tenant_id, at desc, id desc)`.execute(
    db,
  );
  await sql`create index moderation_log_chat_idx on moderation_log (chat_id, at desc, id desc)`.execute(db);
  const s = await quotedCurrentSchema(db);
  await sql.raw(createFunctionStatement(s, sendFunction(s))).execute(db);
}

/** The tables go; the send function stays as installed (the previous text is not kept anywhere to restore). */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['moderation_log', 'message_reports', 'user_blocks', 'chat_bans', 'chat_mutes']) {
    await sql`drop table if exists ${sql.table(table)}`.execute(db);
  }
}
