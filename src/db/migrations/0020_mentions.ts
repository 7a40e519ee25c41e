import { sql, type Kysely } from 'kysely';

/**
 * Mentions (`message_mentions`), resolved when a message is sent or edited and written in the same statement: one row
 * per member a message names (`via` 'name') or reaches with `@here` (`via` 'here': the members online then), and one
 * row with no user for each of `@all` and `@here` (the message's marker; `@all` reaches every member when counted,
 * so it is never expanded). A member's mention count reads the rows past their read cursor through
 * `message_mentions_user_idx`, and the `@all` markers through `message_mentions_all_idx`. The rows go with their
 * message.
 *
 * A member's chat settings (`members`): `muted_until` (notifications muted until then, 'infinity' for ever),
 * `archived` and `hidden_through` (the chat is hidden while its last seq is at most this: the next message shows it
 * again).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table message_mentions (
      chat_id text not null,
      seq bigint not null,
      user_id text,
      via text not null check (via in ('name', 'here', 'all')),
      check (user_id is not null or via <> 'name'),
      foreign key (chat_id, seq) references messages (chat_id, seq) on delete cascade
    )`.execute(db);
  // A page's mentions: the rows of its messages.
  await sql`create index message_mentions_message_idx on message_mentions (chat_id, seq)`.execute(db);
  // A member's mentions past their cursor.
  await sql`create index message_mentions_user_idx on message_mentions (chat_id, user_id, seq) where user_id is not null`.execute(
    db,
  );
  // A chat's @all messages past a cursor.
  await sql`create index message_mentions_all_idx on message_mentions (chat_id, seq) where via = 'all'`.execute(
    db,
  );
  await sql`
    alter table members
      add column muted_until timestamptz,
      add column archived boolean not null default false,
      add column hidden_through bigint`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table members drop column if exists muted_until, drop column if exists archived, drop column if exists hidden_through`.execute(
    db,
  );
  await sql`drop table if exists message_mentions`.execute(db);
}
