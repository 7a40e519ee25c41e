import type { MemberRole } from '../members/member.table.ts';
import { presentMessage } from '../messages/message.presenter.ts';
import type { MessageRow } from '../messages/message.table.ts';
import type { ChatRow } from './chat.table.ts';
import type { ChatView } from './chat.schema.ts';
import { DEFAULT_SETTINGS } from './settings.presenter.ts';
import type { ChatSettingsView } from './settings.schema.ts';

/** A chat as one member sees it. `lastMessage` is undefined when it was not loaded, null when there is none. */
export interface ChatWithViewer {
  chat: ChatRow;
  role: MemberRole | null;
  lastReadSeq: number;
  unreadCount: number;
  lastMessage?: MessageRow | null;
  /** The viewer's own settings; the defaults when there is no viewer. */
  settings?: ChatSettingsView;
}

export function presentChat({
  chat,
  role,
  lastReadSeq,
  unreadCount,
  lastMessage,
  settings,
}: ChatWithViewer): ChatView {
  const view: ChatView = {
    id: chat.id,
    number: chat.number,
    kind: chat.kind,
    name: chat.name,
    topic: chat.topic,
    visibility: chat.visibility,
    createdBy: chat.created_by,
    createdAt: chat.created_at.toISOString(),
    lastMessageAt: chat.last_message_at ? chat.last_message_at.toISOString() : null,
    messageCount: chat.message_count,
    memberCount: chat.member_count,
    unreadCount,
    lastReadSeq,
    role,
    settings: settings ?? DEFAULT_SETTINGS,
  };
  if (lastMessage !== undefined) {
    view.lastMessage = lastMessage ? presentMessage(lastMessage) : null;
  }
  return view;
}
