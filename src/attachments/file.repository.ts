import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { AttachmentRow } from './attachment.table.ts';

/** An uploaded file's row, with the id and deletion of the message it belongs to (null while it has none). */
export interface FileRow extends AttachmentRow {
  sha256: string;
  message_id: string | null;
}

/**
 * Takes (or creates) the content's row and marks it referenced now: the lock it holds to the end of the
 * transaction keeps the sweeper from removing the content while an upload moves it into place and names it.
 */
export async function referenceBlob(db: Db, sha256: string, size: number): Promise<void> {
  await sql`
    insert into file_blobs (sha256, size) values (${sha256}, ${size})
    on conflict (sha256) do update set referenced_at = now()`.execute(db);
}

export interface NewUpload {
  id: string;
  tenantId: string;
  chatId: string;
  sha256: string;
  size: number;
  contentType: string;
  name: string;
  width: number | null;
  height: number | null;
  createdBy: string;
}

export async function insertUpload(db: Db, upload: NewUpload): Promise<void> {
  await db
    .insertInto('attachments')
    .values({
      id: upload.id,
      tenant_id: upload.tenantId,
      chat_id: upload.chatId,
      seq: null,
      file_key: `sha256:${upload.sha256}`,
      metadata: JSON.stringify({}),
      created_by: upload.createdBy,
      updated_at: null,
      deleted_at: null,
      sha256: upload.sha256,
      size: upload.size,
      content_type: upload.contentType,
      name: upload.name,
      width: upload.width,
      height: upload.height,
    })
    .execute();
}

/**
 * An uploaded file that may be shown: not deleted, in a live chat, and, once it belongs to a message, that message
 * not deleted. With `member`, only when that user is a member of the chat (and of the tenant).
 */
export async function findShownFile(
  db: Db,
  id: string,
  member?: { tenantId: string; userId: string },
): Promise<FileRow | undefined> {
  const result = await sql<FileRow>`
    select a.*, m.id as message_id
      from attachments a
      join chats c on c.id = a.chat_id and c.deleted_at is null
      left join messages m on m.chat_id = a.chat_id and m.seq = a.seq
     where a.id = ${id} and a.sha256 is not null and a.deleted_at is null
       and (a.seq is null or m.deleted_at is null)
       and ${
         member
           ? sql`a.tenant_id = ${member.tenantId} and exists (
               select 1 from members me
                where me.chat_id = a.chat_id and me.user_id = ${member.userId} and me.tenant_id = ${member.tenantId})`
           : sql`true`
       }`.execute(db);
  return result.rows[0];
}

/**
 * The sweeper's first step: uploaded files no message references any more, for `graceSeconds`: never sent with a
 * message, deleted, or their message or chat deleted. Their rows go; their contents' rows are left to `sweepBlobs`.
 */
export async function deleteUnreferencedFiles(db: Db, graceSeconds: number): Promise<number> {
  const result = await sql`
    delete from attachments a
     where a.sha256 is not null
       and (
         (a.seq is null and a.created_at < now() - make_interval(secs => ${graceSeconds}))
         or a.deleted_at < now() - make_interval(secs => ${graceSeconds})
         or exists (
           select 1 from messages m
            where m.chat_id = a.chat_id and m.seq = a.seq
              and m.deleted_at < now() - make_interval(secs => ${graceSeconds}))
         or exists (
           select 1 from chats c
            where c.id = a.chat_id and c.deleted_at < now() - make_interval(secs => ${graceSeconds}))
       )`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/**
 * The sweeper's second step, inside its transaction: the rows of contents no attachment names and none has
 * referenced for `graceSeconds`, deleted; their keys come back for the store to remove before the commit. An
 * upload of the same content waits on the row's lock meanwhile, and writes it again after.
 */
export async function deleteUnreferencedBlobs(
  db: Db,
  graceSeconds: number,
  limit: number,
): Promise<string[]> {
  const result = await sql<{ sha256: string }>`
    delete from file_blobs b
     where b.sha256 in (
       select f.sha256 from file_blobs f
        where f.referenced_at < now() - make_interval(secs => ${graceSeconds})
          and not exists (select 1 from attachments a where a.sha256 = f.sha256)
        order by f.referenced_at
        limit ${limit}
        for update skip locked)
       and b.referenced_at < now() - make_interval(secs => ${graceSeconds})
    returning b.sha256`.execute(db);
  return result.rows.map((row) => row.sha256);
}
