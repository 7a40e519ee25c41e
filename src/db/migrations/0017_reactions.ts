import { sql, type Kysely } from 'kysely';

/**
 * Emoji reactions to messages: one row per member, message and emoji (`message_reactions`), and per message and
 * emoji how many there are (`message_reaction_counts`, its `ord` the order the emoji first appeared in), so that a
 * history page reads each message's counts with one probe of that primary key, in its own query, rather than
 * counting. A reaction change raises the chat's
 * `history_revision` (migration 0010) in the same transaction, so a cached history page is never served with stale
 * counts. Both tables go with their message.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table message_reactions (
      chat_id text not null,
      seq bigint not null,
      emoji text not null,
      user_id text not null,
      -- Milliseconds, as clients see it: a cursor of who reacted carries it exactly.
      created_at timestamptz not null default date_trunc('milliseconds', now()),
      primary key (chat_id, seq, emoji, user_id),
      foreign key (chat_id, seq) references messages (chat_id, seq) on delete cascade
    )`.execute(db);
  // Who reacted with an emoji, first first; a member's own reactions on a page.
  await sql`create index message_reactions_order_idx on message_reactions (chat_id, seq, emoji, created_at, user_id)`.execute(
    db,
  );
  await sql`create index message_reactions_user_idx on message_reactions (chat_id, user_id, seq)`.execute(db);
  await sql`
    create table message_reaction_counts (
      chat_id text not null,
      seq bigint not null,
      emoji text not null,
      count integer not null check (count > 0),
      ord bigint generated always as identity,
      primary key (chat_id, seq, emoji),
      foreign key (chat_id, seq) references messages (chat_id, seq) on delete cascade
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists message_reaction_counts`.execute(db);
  await sql`drop table if exists message_reactions`.execute(db);
}
