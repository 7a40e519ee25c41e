/**
 * What features built on members (messages: read cursors) do with membership rows. No module outside the members
 * feature reaches its repositories.
 */
export { advanceReadCursor, readersOf } from './member.repository.ts';
