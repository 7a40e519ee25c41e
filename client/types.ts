// The API's types, taken from the server's own schemas (type-only: nothing of the server reaches a bundle).
export type { ChatView, CreateChatBody, ListChatsQuery, UpdateChatBody } from '../src/chats/chat.schema.ts';
export type { ErrorBody, ErrorCode } from '../src/errors/codes.ts';
export type { HealthView } from '../src/health/health.routes.ts';
export type {
  AddMemberBody,
  ListMembersQuery,
  MemberView,
  UpdateMemberBody,
} from '../src/members/member.schema.ts';
export type {
  EditMessageBody,
  ListMessagesQuery,
  MessageView,
  ReadView,
  SendMessageBody,
  UnreadView,
} from '../src/messages/message.schema.ts';
export type { Page } from '../src/pagination.ts';
export type {
  ClientFrame,
  ControlFrameMap,
  EventType,
  ServerEventMap,
  StreamFrame,
  StreamFrameMap,
} from '../src/realtime/protocol.ts';
export type { SearchHitView, SearchMessagesQuery, SearchSort } from '../src/search/search.schema.ts';
export type { CreateUserBody, ListUsersQuery, UpdateMeBody, UserView } from '../src/users/user.schema.ts';

/** A bearer token, or a function that returns a fresh one (called for every request and every connection). */
export type TokenSource = string | (() => string | Promise<string>);
