import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fastJson from 'fast-json-stringify';
import { ChatView } from '../src/chats/chat.schema.ts';
import { PageOf } from '../src/http/routes.ts';
import { serializationSchema } from '../src/http/serialization.ts';
import { MessageView } from '../src/messages/message.schema.ts';

const message = (seq: number, filled: boolean) => ({
  id: `m${seq}`,
  chatId: 'c1',
  seq,
  authorId: 'u1',
  text: filled ? 'hello "world"' : null,
  replyTo: filled ? 1 : null,
  clientId: filled ? 'k1' : null,
  createdAt: '2026-12-07T15:00:00.000Z',
  editedAt: filled ? '2026-12-07T15:01:00.000Z' : null,
  deletedAt: filled ? null : '2026-12-07T15:02:00.000Z',
  threadRoot: filled ? 2 : null,
  alsoInChat: filled,
  thread: filled
    ? { replyCount: 2, lastReplyAt: '2026-12-07T15:03:00.000Z', participants: ['u1', 'u2'] }
    : null,
  pinnedAt: null,
  pinnedBy: null,
  mentions: filled ? ['u2'] : [],
  mentionsAll: false,
  mentionsHere: false,
  reactions: filled ? [{ emoji: '👍', count: 2, me: true }] : [],
});

const chat = (n: number) => ({
  id: `c${n}`,
  number: n,
  kind: 'group',
  name: n % 2 ? `chat ${n}` : null,
  topic: n % 3 ? null : 'a topic',
  visibility: 'private',
  createdBy: 'u1',
  createdAt: '2026-12-07T15:00:00.000Z',
  lastMessageAt: n % 2 ? null : '2026-12-07T15:00:00.000Z',
  messageCount: n,
  memberCount: 4,
  unreadCount: 1,
  lastReadSeq: 2,
  role: n % 4 ? 'owner' : null,
  settings: {
    muted: n % 2 === 0,
    mutedUntil: n % 2 ? null : '2026-12-08T15:00:00.000Z',
    archived: false,
    hidden: false,
  },
  lastMessage: n % 2 ? null : message(n, n % 4 === 0),
});

describe('response serialization', () => {
  it('writes nullable values exactly as the schemas as written would, without choosing a branch by validation', () => {
    for (const [schema, value] of [
      [PageOf(ChatView), { data: Array.from({ length: 12 }, (_, n) => chat(n)), nextCursor: null }],
      [PageOf(MessageView), { data: [message(1, true), message(2, false)], nextCursor: 'next' }],
    ] as const) {
      const written = fastJson(schema as never)(value);
      const typed = serializationSchema(schema);
      assert.equal(fastJson(typed as never)(value), written);
      assert.deepEqual(JSON.parse(written), value);
      // No `anyOf` of a value and null is left for the serializer to validate its way through.
      const nullableUnions = JSON.stringify(typed).match(/"anyOf":\[[^\]]*\{"type":"null"\}\]/g) ?? [];
      assert.deepEqual(nullableUnions, []);
    }
  });

  it('leaves every other schema as it is', () => {
    const schema = { anyOf: [{ type: 'string' }, { type: 'integer' }], description: 'either' };
    assert.deepEqual(serializationSchema(schema), schema);
    assert.deepEqual(serializationSchema({ type: 'null' }), { type: 'null' });
  });
});
