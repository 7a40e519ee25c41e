/**
 * What features built on users (chats, members, tenants' token applications) do inside their own transactions:
 * check which user ids exist, lock users to count their chats exactly, create a tenant's first users. Each takes the
 * transaction it runs in; no module outside the users feature reaches its repositories.
 */
export { existingUserIds, insertUser, lockUsers } from './user.repository.ts';
