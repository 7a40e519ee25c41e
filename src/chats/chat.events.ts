import Type from 'typebox';
import { eventsOf, type PayloadsOf } from '../events.ts';
import { ChatView } from './chat.schema.ts';

/** The chats feature's events; `chat.created` carries the member ids as routing (`memberIds`). */
export const ChatEvents = {
  'chat.created': Type.Object(
    { chat: ChatView },
    { description: 'A chat the user is a member of was created: the recipient’s own view of it.' },
  ),
  'chat.updated': Type.Object(
    { chat: ChatView },
    {
      description:
        'A chat the user is in changed (name, topic, visibility): the recipient’s own view (role, unread count).',
    },
  ),
  'chat.deleted': Type.Object(
    { chat: ChatView },
    {
      description:
        'A chat the user was in was deleted: its view with no role and nothing unread; nothing more of it follows.',
    },
  ),
};
export type ChatEvents = PayloadsOf<typeof ChatEvents>;

export const chatEvent = eventsOf<ChatEvents>();
