/**
 * What features built on messages (attachments) do with message rows: find one of a chat by its id. No module
 * outside the messages feature reaches its repositories.
 */
export { findMessageById } from './message.repository.ts';
