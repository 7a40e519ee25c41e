import { limitExceeded } from '../errors/codes.ts';
import { ChatStream, type Connection } from './connection.ts';

const NONE: ReadonlySet<Connection> = new Set();

/**
 * Which connection of this process follows which user, chat and tenant. Synchronous throughout: two connects at once
 * cannot both take a user's last place.
 */
export class Registry {
  private readonly byUser = new Map<string, Set<Connection>>();
  private readonly byChat = new Map<string, Set<Connection>>();
  private readonly byTenant = new Map<string, Set<Connection>>();

  constructor(private readonly socketsPerUser: number) {}

  get count(): number {
    let n = 0;
    for (const set of this.byTenant.values()) {
      n += set.size;
    }
    return n;
  }

  /**
   * Registers a connection if its user has room for one more on this process (`socketsPerUser`, WebSocket and SSE
   * together); `limit_exceeded` otherwise.
   */
  admit(connection: Connection): void {
    const max = this.socketsPerUser;
    if ((this.byUser.get(connection.userKey)?.size ?? 0) >= max) {
      throw limitExceeded(
        'sockets_per_user',
        max,
        `at most ${max} open streams per user; close one before opening another`,
      );
    }
    add(this.byUser, connection.userKey, connection);
    add(this.byTenant, connection.actor.tenantId, connection);
  }

  /** Forgets a connection everywhere. */
  remove(connection: Connection): void {
    remove(this.byUser, connection.userKey, connection);
    remove(this.byTenant, connection.actor.tenantId, connection);
    for (const chatId of connection.chats.keys()) {
      remove(this.byChat, chatId, connection);
    }
  }

  /** The connection follows the chat from `lastSeq` and `lastRev` on (no-op when it already does). */
  subscribe(connection: Connection, chatId: string, lastSeq: number, lastRev: number): void {
    if (connection.chats.has(chatId)) {
      return;
    }
    connection.chats.set(chatId, new ChatStream(lastSeq, lastRev));
    add(this.byChat, chatId, connection);
  }

  unsubscribe(connection: Connection, chatId: string): void {
    const stream = connection.chats.get(chatId);
    if (stream?.gapTimer) {
      clearTimeout(stream.gapTimer);
    }
    connection.chats.delete(chatId);
    remove(this.byChat, chatId, connection);
  }

  ofUser(tenantId: string, userId: string): ReadonlySet<Connection> {
    return this.byUser.get(`${tenantId}\u0000${userId}`) ?? NONE;
  }

  ofChat(chatId: string): ReadonlySet<Connection> {
    return this.byChat.get(chatId) ?? NONE;
  }

  ofTenant(tenantId: string): ReadonlySet<Connection> {
    return this.byTenant.get(tenantId) ?? NONE;
  }

  all(): Connection[] {
    return [...this.byTenant.values()].flatMap((set) => [...set]);
  }
}

function add<K>(map: Map<K, Set<Connection>>, key: K, connection: Connection): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(connection);
}

function remove<K>(map: Map<K, Set<Connection>>, key: K, connection: Connection): void {
  const set = map.get(key);
  if (!set) {
    return;
  }
  set.delete(connection);
  if (set.size === 0) {
    map.delete(key);
  }
}
