import { sql, type Kysely } from 'kysely';
import { createFunctionStatement, sendFunction } from '../../messages/message.sql.ts';
import { quotedCurrentSchema } from './schema.ts';

/**
 * Threads (docs/api.md, "Threads"). A thread reply is a message of its chat, numbered from the chat's counter like
 * any other, with `thread_root` (the seq of the top-level message it answers) and `also_in_chat` (shown in the
 * chat's main history too). The root carries its thread's summary: `reply_count` (live replies), `last_reply_at`,
 * `thread_participants` (the first few participants, root author first). `thread_members` holds every participant of
 * a thread with a read cursor of its own, for the unread counts of threads; `chats.last_thread_seq` (the newest
 * thread-only reply) lets the chat's unread count and its main history look for thread-only replies only when there
 * can be any. The send function becomes `parley_send_v2` (new arguments and result: a process of the previous
 * version keeps calling `parley_send`, which stays), which checks the root and keeps all of this in its statement.
 */
export const installs = { sendFunction: '4a45681df97c1ba8147b9081f919f4a39855fe340f13baf994f7c4fa4d56032c' };

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table messages
      add column thread_root bigint,
      add column also_in_chat boolean not null default false,
      add column reply_count integer not null default 0,
      add column last_reply_at timestamptz,
      add column thread_participants text[]`.execute(db);
  await sql`alter table chats add column last_thread_seq bigint not null default 0`.execute(db);
  // A thread's page: one range scan of its replies.
  await sql`create index messages_thread_idx on messages (chat_id, thread_root, seq) where thread_root is not null`.execute(
    db,
  );
  // The thread-only replies past a member's cursor, which the chat's unread count leaves out.
  await sql`
    create index messages_thread_only_idx on messages (chat_id, seq)
     where thread_root is not null and not also_in_chat`.execute(db);
  await sql`
    create table thread_members (
      chat_id text not null,
      root_seq bigint not null,
      user_id text not null,
      last_read_seq bigint not null,
      joined_at timestamptz not null default now(),
      primary key (chat_id, root_seq, user_id),
      foreign key (chat_id, root_seq) references messages (chat_id, seq) on delete cascade
    )`.execute(db);
  // A user's threads, for the unread summary.
  await sql`create index thread_members_user_idx on thread_members (user_id, chat_id)`.execute(db);
  const s = await quotedCurrentSchema(db);
  await sql.raw(createFunctionStatement(s, sendFunction(s))).execute(db);
}

/** The columns, the table and the function that writes them go; `parley_send` (0014's) stays. */
export async function down(db: Kysely<unknown>): Promise<void> {
  const s = await quotedCurrentSchema(db);
  const fn = sendFunction(s);
  await sql.raw(`drop function if exists ${s}.${fn.name}(${fn.arguments})`).execute(db);
  await sql`drop table if exists thread_members`.execute(db);
  await sql`drop index if exists messages_thread_only_idx`.execute(db);
  await sql`drop index if exists messages_thread_idx`.execute(db);
  await sql`alter table chats drop column if exists last_thread_seq`.execute(db);
  await sql`
    alter table messages
      drop column if exists thread_participants, drop column if exists last_reply_at,
      drop column if exists reply_count, drop column if exists also_in_chat, drop column if exists thread_root`.execute(
    db,
  );
}
