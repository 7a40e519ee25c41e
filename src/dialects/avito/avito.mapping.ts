export { userActor } from '../actors.ts';
import type { ChatView } from '../../chats/chat.schema.ts';
import type { MemberView } from '../../members/member.schema.ts';
import type { MessageView } from '../../messages/message.schema.ts';
import type { AvitoChat, AvitoMessage } from './avito.schema.ts';

/** A Parley group as an Avito chat; its users are the members, the owner (the first user listed) first. */
export function toAvitoChat(chat: ChatView, members: MemberView[]): AvitoChat {
  return {
    id: chat.id,
    name: chat.name ?? '',
    users: members.map((m) => m.userId),
    created_at: chat.createdAt,
  };
}

export function toAvitoMessage(message: MessageView): AvitoMessage {
  return {
    id: message.id,
    chat: message.chatId,
    author: message.authorId,
    text: message.text ?? '',
    created_at: message.createdAt,
  };
}
