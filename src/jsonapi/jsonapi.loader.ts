import type { Actor } from '../auth/actor.ts';
import type { ChatView } from '../chats/chat.schema.ts';
import { getChat } from '../chats/chat.service.ts';
import type { Context } from '../context.ts';
import { AppError } from '../errors/codes.ts';
import type { MemberView } from '../members/member.schema.ts';
import { listMembers } from '../members/member.service.ts';
import type { MessageView } from '../messages/message.schema.ts';
import { getMessagesBySeq } from '../messages/message.service.ts';
import { allPages } from '../pagination.ts';
import type { UserView } from '../users/user.schema.ts';
import { getUsers } from '../users/user.service.ts';
import type { ResourceType, Views } from './jsonapi.fields.ts';

/** What the caller may not see is simply not included: the services' 404 becomes "nothing". */
async function unlessHidden<T>(load: Promise<T>, hidden: T): Promise<T> {
  try {
    return await load;
  } catch (error) {
    if (error instanceof AppError && error.code === 'not_found') {
      return hidden;
    }
    throw error;
  }
}

/**
 * Fetches related resources for one document through the services, as the caller (access checks and tenant walls
 * apply), in batches, and never the same resource twice.
 */
export class Loader {
  private readonly userViews = new Map<string, UserView>();
  private readonly chatViews = new Map<string, Promise<ChatView | null>>();
  private readonly memberLists = new Map<string, Promise<MemberView[]>>();
  private readonly messageViews = new Map<string, MessageView>();

  constructor(
    private readonly ctx: Context,
    private readonly actor: Actor,
  ) {}

  /** A view the document already has (its primary data, or something loaded for it). */
  remember<T extends ResourceType>(type: T, view: Views[T]): void {
    if (type === 'users') {
      const user = view as UserView;
      this.userViews.set(user.id, user);
    } else if (type === 'chats') {
      const chat = view as ChatView;
      this.chatViews.set(chat.id, Promise.resolve(chat));
    } else if (type === 'messages') {
      const message = view as MessageView;
      this.messageViews.set(`${message.chatId}\u0000${message.seq}`, message);
    }
  }

  async users(ids: string[]): Promise<Map<string, UserView>> {
    const missing = [...new Set(ids)].filter((id) => !this.userViews.has(id));
    for (const user of await getUsers(this.ctx, this.actor, missing)) {
      this.userViews.set(user.id, user);
    }
    const found = new Map<string, UserView>();
    for (const id of ids) {
      const user = this.userViews.get(id);
      if (user) {
        found.set(id, user);
      }
    }
    return found;
  }

  chat(id: string): Promise<ChatView | null> {
    let chat = this.chatViews.get(id);
    if (!chat) {
      chat = unlessHidden<ChatView | null>(getChat(this.ctx, this.actor, id), null);
      this.chatViews.set(id, chat);
    }
    return chat;
  }

  /** Every member of a chat, page after page. */
  members(chatId: string): Promise<MemberView[]> {
    let members = this.memberLists.get(chatId);
    if (!members) {
      members = unlessHidden(this.allMembers(chatId), []);
      this.memberLists.set(chatId, members);
    }
    return members;
  }

  private async allMembers(chatId: string): Promise<MemberView[]> {
    return allPages((page) => listMembers(this.ctx, this.actor, chatId, page));
  }

  /** Messages of one chat by seq. */
  async messages(chatId: string, seqs: number[]): Promise<Map<number, MessageView>> {
    const key = (seq: number) => `${chatId}\u0000${seq}`;
    const missing = [...new Set(seqs)].filter((seq) => !this.messageViews.has(key(seq)));
    if (missing.length > 0) {
      const loaded = await unlessHidden(getMessagesBySeq(this.ctx, this.actor, chatId, missing), []);
      for (const message of loaded) {
        this.messageViews.set(key(message.seq), message);
      }
    }
    const found = new Map<number, MessageView>();
    for (const seq of seqs) {
      const message = this.messageViews.get(key(seq));
      if (message) {
        found.set(seq, message);
      }
    }
    return found;
  }
}
