import type { Actor } from '../../auth/actor.ts';
import type { ChatView } from '../../chats/chat.schema.ts';
import type { MemberView } from '../../members/member.schema.ts';
import type { MessageView } from '../../messages/message.schema.ts';
import type { AvitoChat, AvitoMessage } from './avito.schema.ts';

/**
 * The dialect itself, for what no Avito user does (creating users, reading a chat by id): a tenant administrator
 * that is never stored and never a member of anything.
 */
export function dialectActor(tenantId: string): Actor {
  return {
    tenantId,
    userId: 'avito-dialect',
    isAdmin: true,
    permissions: [],
    profile: { username: null, displayName: null },
  };
}

/** An Avito user acting: the user named by the request body, a plain member of the tenant. */
export function userActor(tenantId: string, userId: string): Actor {
  return {
    tenantId,
    userId,
    isAdmin: false,
    permissions: [],
    profile: { username: null, displayName: null },
  };
}

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
