import { sql, type Kysely } from 'kysely';

/**
 * What SourceLoop clients send with a message beyond its text, kept as they sent it: `subject`, `status` and
 * `channelType` (one row per message that had any; a message without a row shows no subject, status 0 and its
 * chat's kind), who forwarded a message to a recipient (`forwardedBy`) and who last changed a recipient's state,
 * beside the recipient's flags. A
 * message's properties go with it. Additive only.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table if not exists message_properties (
      chat_id text not null,
      seq bigint not null,
      subject text,
      status integer not null default 0,
      channel_type text,
      primary key (chat_id, seq),
      foreign key (chat_id, seq) references messages (chat_id, seq) on delete cascade
    )`.execute(db);
  await sql`alter table message_flags add column if not exists forwarded_by text`.execute(db);
  await sql`alter table message_flags add column if not exists updated_by text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table message_flags drop column if exists updated_by`.execute(db);
  await sql`alter table message_flags drop column if exists forwarded_by`.execute(db);
  await sql`drop table if exists message_properties`.execute(db);
}
