import { sql, type Kysely } from 'kysely';

/**
 * Uploaded files (docs/files.md).
 *
 * - An attachment may now describe a file Parley stores itself: its content's SHA-256 (`sha256`, the storage key),
 *   size, content type, sanitized name and, for an image, its dimensions. Rows written through the metadata API
 *   keep these null; every new column is nullable without a default, so adding them rewrites no table.
 * - `file_blobs`: one row per stored content (content-addressed: the same bytes are stored once, whoever uploads
 *   them). An upload takes the row's lock while it moves its content into place; the sweeper deletes a row (and
 *   then its content) only when no attachment names it and it has not been referenced for the grace period.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table attachments
      add column sha256 text,
      add column size bigint,
      add column content_type text,
      add column name text,
      add column width integer,
      add column height integer`.execute(db);
  await sql`create index attachments_sha256_idx on attachments (sha256) where sha256 is not null`.execute(db);
  await sql`create index attachments_message_files_idx on attachments (chat_id, seq) where sha256 is not null`.execute(
    db,
  );
  await sql`
    create table file_blobs (
      sha256 text primary key,
      size bigint not null,
      created_at timestamptz not null default now(),
      referenced_at timestamptz not null default now()
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists file_blobs`.execute(db);
  await sql`drop index if exists attachments_message_files_idx`.execute(db);
  await sql`drop index if exists attachments_sha256_idx`.execute(db);
  await sql`
    alter table attachments
      drop column if exists height,
      drop column if exists width,
      drop column if exists name,
      drop column if exists content_type,
      drop column if exists size,
      drop column if exists sha256`.execute(db);
}
