import { sql, type Kysely } from 'kysely';

/**
 * Pins and read receipts.
 *
 * - A pinned message carries who pinned it and when (`messages.pinned_by`, `pinned_at`; both null when it is not
 *   pinned). Pinning updates the message row, so the update trigger of migration 0010 moves the chat's
 *   `history_revision` in the same statement: no cached history page shows a stale pin. A partial index lists a
 *   chat's pins, newest first, and counts them for the limit, reading pinned messages only.
 * - `members.last_read_at`: when the member's read cursor last moved forward (null until it first moves after this
 *   migration), for "seen by" lists.
 *
 * Both columns are nullable without a default: adding them rewrites no table.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table messages add column pinned_at timestamptz, add column pinned_by text`.execute(db);
  await sql`
    create index messages_pins_idx on messages (chat_id, pinned_at desc, seq desc)
     where pinned_at is not null`.execute(db);
  await sql`alter table members add column last_read_at timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table members drop column if exists last_read_at`.execute(db);
  await sql`drop index if exists messages_pins_idx`.execute(db);
  await sql`alter table messages drop column if exists pinned_by, drop column if exists pinned_at`.execute(
    db,
  );
}
