/**
 * What features built on members (messages: read cursors; moderation: mutes) do with membership rows and mutes. No module outside the members
 * feature reaches its repositories.
 */
export { advanceReadCursor, readersOf } from './member.repository.ts';
export { deleteMute, findLiveMute, listLiveMutes, upsertMute } from './mute.repository.ts';
