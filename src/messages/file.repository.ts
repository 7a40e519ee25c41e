import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.ts';
import type { MessageFile } from './message.schema.ts';

/**
 * The files of messages: uploads (`attachments` rows with content, written by the attachments feature) that a send
 * named. A send links them in its own statement (`linkFilesCte`), so a message and its files are written together.
 */

interface FileOfMessageRow {
  seq: number;
  id: string;
  name: string | null;
  content_type: string | null;
  size: number | null;
  width: number | null;
  height: number | null;
}

/** A message's files as `messageFilesSql` reads them: `[id, name, contentType, size, width, height]` each. */
export type FileTuple = [
  string,
  string | null,
  string | null,
  number | string | null,
  number | null,
  number | null,
];

/**
 * The files of message `seq` (an expression of the enclosing query) of the chat, in the order its send named them,
 * as a JSON array of `FileTuple`s, or null for none: for a page query to bring them in its own round trip (one probe
 * of `attachments_message_files_idx` a message). A deleted message has none.
 */
export function messageFilesSql(chatId: string, seq: RawBuilder<unknown>, deletedAt: RawBuilder<unknown>) {
  return sql<
    FileTuple[] | null
  >`(select json_agg(json_build_array(a.id, a.name, a.content_type, a.size, a.width,
                                                     a.height)
                                  order by coalesce((a.metadata->>'position')::int, 0), a.id)
      from attachments a
     where a.chat_id = ${chatId} and a.seq = ${seq} and ${deletedAt} is null
       and a.sha256 is not null and a.deleted_at is null)`;
}

/** A file as the views show it: the defaults for what an upload left unset. */
function messageFile(...[id, name, contentType, size, width, height]: [...FileTuple]): MessageFile {
  return {
    id,
    name: name ?? 'file',
    contentType: contentType ?? 'application/octet-stream',
    size: Number(size ?? 0),
    width,
    height,
  };
}

/** `FileTuple`s as the views show them. */
export function filesFromTuples(tuples: FileTuple[]): MessageFile[] {
  return tuples.map((tuple) => messageFile(...tuple));
}

/** The files of these messages of a chat, by seq, each message's in the order its send named them. */
export async function filesOfMessages(
  db: Db,
  chatId: string,
  seqs: number[],
): Promise<Map<number, MessageFile[]>> {
  const found = new Map<number, MessageFile[]>();
  if (seqs.length === 0) {
    return found;
  }
  const result = await sql<FileOfMessageRow>`
    select a.seq, a.id, a.name, a.content_type, a.size, a.width, a.height
      from attachments a
     where a.chat_id = ${chatId} and a.seq = any(${seqs}::bigint[])
       and a.sha256 is not null and a.deleted_at is null
     order by a.seq, coalesce((a.metadata->>'position')::int, 0), a.id`.execute(db);
  for (const row of result.rows) {
    const seq = Number(row.seq);
    const list = found.get(seq) ?? [];
    list.push(messageFile(row.id, row.name, row.content_type, row.size, row.width, row.height));
    found.set(seq, list);
  }
  return found;
}

/** Of `ids`, those that are uploads by `authorId` to the chat, not deleted and not sent with a message yet. */
export async function unsentUploads(
  db: Db,
  chatId: string,
  authorId: string,
  ids: string[],
): Promise<string[]> {
  const result = await sql<{ id: string }>`
    select a.id from attachments a
     where a.id = any(${ids}::text[]) and a.chat_id = ${chatId} and a.created_by = ${authorId}
       and a.sha256 is not null and a.seq is null and a.deleted_at is null`.execute(db);
  return result.rows.map((row) => row.id);
}

/**
 * The send statement's CTE that gives each written message the files its send named (rows of `sent`, the send
 * function's outcomes, by `ord`): only unsent uploads of its author to its chat; the position each was named at is
 * kept in the row's metadata, for the order views show them in.
 */
export function linkFilesCte(files: { ord: number; ids: string[] }[]) {
  const ords = files.flatMap((f) => f.ids.map(() => f.ord));
  const ids = files.flatMap((f) => f.ids);
  const positions = files.flatMap((f) => f.ids.map((_, i) => i));
  return sql`
    linked as (
      update attachments a
         set seq = s.seq, updated_at = now(),
             metadata = a.metadata || jsonb_build_object('position', l.position)
        from sent s
        join unnest(${ords}::int[], ${ids}::text[], ${positions}::int[]) as l(ord, id, position) on l.ord = s.ord
       where s.outcome = 'written' and a.id = l.id and a.chat_id = s.chat_id and a.created_by = s.author_id
         and a.sha256 is not null and a.seq is null and a.deleted_at is null
      returning a.id
    )`;
}
