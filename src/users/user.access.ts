/**
 * What features built on users (chats, members, tenants' token applications) do inside their own transactions:
 * check which user ids exist (and are not deleted), lock users to count their chats exactly and to serialise with
 * their deletion, create a tenant's first users, turn a user into a tombstone and clear their presence. Each takes
 * the transaction it runs in; no module outside the users feature reaches its repositories.
 */
export { existingUserIds, insertUser, lockUsers, tombstoneUser } from './user.repository.ts';
export { clearPresence } from './presence.repository.ts';
export { isBlocked } from './block.repository.ts';
