import { sql, type RawBuilder } from 'kysely';

/**
 * The live chat of membership `m`, looked up by primary key for each of the user's memberships: `join
 * ${liveChatOf('m')} c on …`. A plain join let the planner choose by statistics, and with the user behind `anyUser`
 * it prices the average user's memberships: where users are in a fair share of a tenant's chats (100 users in
 * 10,000 chats of 4), it scanned every chat of the database into a hash table for each request (2 ms of 3.7 at
 * 10,000 chats, growing with the table). Behind `offset 0` the lookup cannot be turned into a join: its cost
 * follows the user's memberships, never the table's size, whatever the statistics say.
 */
export function liveChatOf(m: string): RawBuilder<unknown> {
  const member = sql.table(m);
  return sql`lateral (
    select * from chats where chats.id = ${member}.chat_id and chats.deleted_at is null offset 0)`;
}
