export { userActor } from '../actors.ts';
import type { ChatView } from '../../chats/chat.schema.ts';
import type { MessageView } from '../../messages/message.schema.ts';
import type { UserStatus } from '../../users/user.table.ts';
import type { UserView } from '../../users/user.schema.ts';
import type { UserDetails } from '../../users/details.service.ts';
import type { DrfStatus } from './drf.schema.ts';
import type { DrfUserInput } from './drf.user.fields.ts';

/** DRF pks are integers: a Parley id made of digits is shown as a number, any other id as it is. */
export function pk(id: string): number | string {
  return /^[1-9][0-9]{0,14}$/.test(id) ? Number(id) : id;
}

/** Ids compare as DRF's integer pks where they are numbers. */
export function comparePks(a: string, b: string): number {
  const [x, y] = [pk(a), pk(b)];
  if (typeof x === 'number' && typeof y === 'number') {
    return x - y;
  }
  if (typeof x !== typeof y) {
    return typeof x === 'number' ? -1 : 1;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

export const toDrfStatus = (status: UserStatus): DrfStatus =>
  status === 'online' ? 'Online' : status === 'busy' ? 'Busy' : 'Offline';

export const fromDrfStatus = (status: DrfStatus): UserStatus => status.toLowerCase() as UserStatus;

/** What a valid user body's `profile` changes: the user's status and status text. */
export function profileChanges(body: DrfUserInput): { status?: UserStatus; statusText?: string | null } {
  return {
    ...(body.profile?.status !== undefined ? { status: fromDrfStatus(body.profile.status) } : {}),
    ...(body.profile?.status_msg !== undefined ? { statusText: body.profile.status_msg } : {}),
  };
}

/** A user made elsewhere (the native API) has one display name: first and last name are its first word and the rest. */
export function splitName(displayName: string | null): { first_name: string; last_name: string } {
  const name = (displayName ?? '').trim();
  const space = name.indexOf(' ');
  return space < 0
    ? { first_name: name, last_name: '' }
    : { first_name: name.slice(0, space), last_name: name.slice(space + 1).trim() };
}

/** The display name Parley shows for a first and a last name: both, or null when both are blank. */
export function joinName(first: string | undefined, last: string | undefined): string | null {
  const name = [first ?? '', last ?? '']
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .join(' ');
  return name === '' ? null : name.slice(0, 200);
}

function names(user: UserView, details: UserDetails | undefined): { first_name: string; last_name: string } {
  if (!details || (details.givenName === null && details.familyName === null)) {
    return splitName(user.displayName);
  }
  return { first_name: details.givenName ?? '', last_name: details.familyName ?? '' };
}

/** DRF's `UserSerializer` output, fields in its order (`password` is write-only). */
export function toDrfUser(user: UserView, details?: UserDetails) {
  return {
    id: pk(user.id),
    profile: {
      id: pk(user.id),
      status: toDrfStatus(user.status),
      status_msg: user.statusText,
      user: pk(user.id),
    },
    last_login: null,
    is_superuser: false,
    username: user.username,
    ...names(user, details),
    email: details?.email ?? '',
    is_staff: false,
    is_active: true,
    date_joined: user.createdAt,
  };
}
export type DrfUser = ReturnType<typeof toDrfUser>;

export interface RoomMember {
  id: string;
  username: string;
  joinedAt: string;
}

/** What a room's answers show of its chat. */
export type RoomChat = Pick<ChatView, 'number' | 'kind' | 'name'>;

/** A direct room is named after its two users, the lower pk first, as the source names it. */
export function roomName(chat: RoomChat, members: RoomMember[]): string {
  if (chat.kind === 'group') {
    return chat.name ?? '';
  }
  return [...members]
    .sort((a, b) => comparePks(a.id, b.id))
    .map((m) => m.username)
    .join(' - ');
}

/** DRF's `ChatRoomSerializer` without `messages`: the current members, by pk. */
export function toRoom(chat: RoomChat, members: RoomMember[]) {
  return {
    id: chat.number,
    room_name: roomName(chat, members),
    room_member: [...members].sort((a, b) => comparePks(a.id, b.id)).map((m) => ({ username: m.username })),
  };
}

export function toDrfMessage(
  chat: RoomChat,
  message: MessageView,
  members: RoomMember[],
  authorName: string,
) {
  const author = members.find((m) => m.id === message.authorId);
  return {
    id: message.id,
    msg_from: {
      id: pk(message.authorId),
      username: authorName,
      chat_room: author
        ? [{ id: chat.number, date_joined: author.joinedAt, user: { username: author.username } }]
        : [],
    },
    text: message.text ?? '',
    sent_at: message.createdAt,
    room: chat.number,
  };
}

export const ok = <T>(data: T) => ({ status: 200, message: 'HTTP_200_OK', data });

/**
 * Python's `repr` of a text or a list of texts: how the original's task-state view shows a failed task (`str()` of
 * the exception Celery rebuilds from the task's traceback lines, a tuple of them).
 */
export function pythonRepr(value: unknown): string {
  if (Array.isArray(value)) {
    return `(${value.map(pythonRepr).join(', ')}${value.length === 1 ? ',' : ''})`;
  }
  if (typeof value !== 'string') {
    return value === null || value === undefined
      ? 'None'
      : typeof value === 'boolean'
        ? value
          ? 'True'
          : 'False'
        : typeof value === 'number'
          ? String(value)
          : JSON.stringify(value);
  }
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  const body = value
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(quote === "'" ? /'/g : /(?!)/g, "\\'");
  return `${quote}${body}${quote}`;
}

/** What the original answers for a Django `ValidationError`: `str()` of it, the list of its messages. */
export const validationText = (message: string): string => `[${pythonRepr(message)}]`;
