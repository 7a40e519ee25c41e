// Not a test file to run: `npm run check` (tsc) compiles it. The client package's types are its own, so that it
// carries nothing of the server; here each one must be exactly the server's (its TypeBox schemas' static types, its
// error codes and the stream's event map). A schema, an error code or an event the client's types do not follow
// fails the check, naming the type.
import type * as Client from '../packages/client/src/index.ts';
import type * as Chats from '../src/chats/chat.schema.ts';
import type * as Errors from '../src/errors/codes.ts';
import type { HealthView } from '../src/health/health.routes.ts';
import type * as Members from '../src/members/member.schema.ts';
import type * as Moderation from '../src/moderation/moderation.schema.ts';
import type * as Blocks from '../src/users/block.schema.ts';
import type * as Messages from '../src/messages/message.schema.ts';
import type * as Files from '../src/attachments/file.schema.ts';
import type { Page } from '../src/pagination.ts';
import type * as Pins from '../src/messages/pin.schema.ts';
import type * as Reactions from '../src/messages/reaction.schema.ts';
import type * as Receipts from '../src/messages/receipt.schema.ts';
import type * as Protocol from '../src/realtime/protocol.ts';
import type * as Settings from '../src/chats/settings.schema.ts';
import type * as Search from '../src/search/search.schema.ts';
import type * as Users from '../src/users/user.schema.ts';

/** True when A and B are the same type: the same properties, each as optional or required, with the same types. */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Compiles only when every entry holds. */
export const clientTypesAreTheServers = {
  ErrorCode: true satisfies Same<Client.ErrorCode, Errors.ErrorCode>,
  ErrorBody: true satisfies Same<Client.ErrorBody, Errors.ErrorBody>,
  Page: true satisfies Same<Client.Page<{ id: string }>, Page<{ id: string }>>,
  HealthView: true satisfies Same<Client.HealthView, HealthView>,

  UserView: true satisfies Same<Client.UserView, Users.UserView>,
  UserStatus: true satisfies Same<Client.UserStatus, Users.UserView['status']>,
  CreateUserBody: true satisfies Same<Client.CreateUserBody, Users.CreateUserBody>,
  UpdateMeBody: true satisfies Same<Client.UpdateMeBody, Users.UpdateMeBody>,
  ListUsersQuery: true satisfies Same<Client.ListUsersQuery, Users.ListUsersQuery>,

  ChatView: true satisfies Same<Client.ChatView, Chats.ChatView>,
  CreateChatBody: true satisfies Same<Client.CreateChatBody, Chats.CreateChatBody>,
  UpdateChatBody: true satisfies Same<Client.UpdateChatBody, Chats.UpdateChatBody>,
  ListChatsQuery: true satisfies Same<Client.ListChatsQuery, Chats.ListChatsQuery>,
  ChatSettingsView: true satisfies Same<Client.ChatSettingsView, Settings.ChatSettingsView>,
  UpdateChatSettingsBody: true satisfies Same<Client.UpdateChatSettingsBody, Settings.UpdateChatSettingsBody>,

  MemberView: true satisfies Same<Client.MemberView, Members.MemberView>,
  AddMemberBody: true satisfies Same<Client.AddMemberBody, Members.AddMemberBody>,
  UpdateMemberBody: true satisfies Same<Client.UpdateMemberBody, Members.UpdateMemberBody>,
  ListMembersQuery: true satisfies Same<Client.ListMembersQuery, Members.ListMembersQuery>,

  MessageView: true satisfies Same<Client.MessageView, Messages.MessageView>,
  SendMessageBody: true satisfies Same<Client.SendMessageBody, Messages.SendMessageBody>,
  EditMessageBody: true satisfies Same<Client.EditMessageBody, Messages.EditMessageBody>,
  MessageFile: true satisfies Same<Client.MessageFile, Messages.MessageFile>,
  FileView: true satisfies Same<Client.FileView, Files.FileView>,
  ListMessagesQuery: true satisfies Same<Client.ListMessagesQuery, Messages.ListMessagesQuery>,
  ReadView: true satisfies Same<Client.ReadView, Messages.ReadView>,
  UnreadView: true satisfies Same<Client.UnreadView, Messages.UnreadView>,
  ThreadSummary: true satisfies Same<Client.ThreadSummary, Messages.ThreadSummary>,
  ThreadReadView: true satisfies Same<Client.ThreadReadView, Messages.ThreadReadView>,
  ReactionView: true satisfies Same<Client.ReactionView, Reactions.ReactionView>,
  ReactionChangeView: true satisfies Same<Client.ReactionChangeView, Reactions.ReactionChangeView>,
  ReactionUserView: true satisfies Same<Client.ReactionUserView, Reactions.ReactionUserView>,
  ListReactionUsersQuery: true satisfies Same<
    Client.ListReactionUsersQuery,
    Reactions.ListReactionUsersQuery
  >,

  ListPinsQuery: true satisfies Same<Client.ListPinsQuery, Pins.ListPinsQuery>,
  ReceiptView: true satisfies Same<Client.ReceiptView, Receipts.ReceiptView>,
  ListReceiptsQuery: true satisfies Same<Client.ListReceiptsQuery, Receipts.ListReceiptsQuery>,
  MuteView: true satisfies Same<Client.MuteView, Moderation.MuteView>,
  MuteBody: true satisfies Same<Client.MuteBody, Moderation.MuteBody>,
  BanView: true satisfies Same<Client.BanView, Moderation.BanView>,
  BanBody: true satisfies Same<Client.BanBody, Moderation.BanBody>,
  BlockView: true satisfies Same<Client.BlockView, Blocks.BlockView>,
  ListBlocksQuery: true satisfies Same<Client.ModerationPageQuery, Blocks.ListBlocksQuery>,
  ReportView: true satisfies Same<Client.ReportView, Moderation.ReportView>,
  ReportBody: true satisfies Same<{ reason: string }, Moderation.ReportBody>,
  ListReportsQuery: true satisfies Same<Client.ListReportsQuery, Moderation.ListReportsQuery>,
  ResolveReportBody: true satisfies Same<Client.ResolveReportBody, Moderation.ResolveReportBody>,
  LogEntryView: true satisfies Same<Client.LogEntryView, Moderation.LogEntryView>,
  ModerationPageQuery: true satisfies Same<Client.ModerationPageQuery, Moderation.PageQuery>,
  TenantLogQuery: true satisfies Same<Client.TenantLogQuery, Moderation.TenantLogQuery>,

  SearchSort: true satisfies Same<Client.SearchSort, Search.SearchSort>,
  SearchMessagesQuery: true satisfies Same<Client.SearchMessagesQuery, Search.SearchMessagesQuery>,
  SearchHitView: true satisfies Same<Client.SearchHitView, Search.SearchHitView>,

  EventType: true satisfies Same<Client.EventType, Protocol.EventType>,
  ServerEventMap: true satisfies Same<Client.ServerEventMap, Protocol.ServerEventMap>,
  ControlFrameMap: true satisfies Same<Client.ControlFrameMap, Protocol.ControlFrameMap>,
  StreamFrame: true satisfies Same<Client.StreamFrame, Protocol.StreamFrame>,
  ClientFrameMap: true satisfies Same<Client.ClientFrameMap, Protocol.ClientFrameMap>,
  ClientFrame: true satisfies Same<Client.ClientFrame, Protocol.ClientFrame>,
};
