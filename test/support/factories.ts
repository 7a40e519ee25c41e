import assert from 'node:assert/strict';
import type { ChatView, MessageView } from './api.ts';
import type { Client } from './app.ts';

/** A group chat owned by `owner` with `members` (clients whose users exist); returns the chat view. */
export async function createGroup(
  owner: Client,
  members: Client[] = [],
  overrides: Record<string, unknown> = {},
): Promise<ChatView> {
  const res = await owner.post('/v1/chats', {
    kind: 'group',
    name: `group-${Math.random().toString(36).slice(2, 10)}`,
    members: members.map((m) => m.userId),
    ...overrides,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

/** The direct chat of `a` and `b` (created, or the one they have: 200). */
export async function createDirect(a: Client, b: Client): Promise<ChatView> {
  const res = await a.post('/v1/chats', { kind: 'direct', members: [b.userId] });
  assert.ok(res.status === 201 || res.status === 200, JSON.stringify(res.body));
  return res.body;
}

/** Sends `count` messages one after another; returns their views. */
export async function sendMessages(
  author: Client,
  chatId: string,
  count: number,
  prefix = 'message',
): Promise<MessageView[]> {
  const sent: MessageView[] = [];
  for (let i = 1; i <= count; i++) {
    const res = await author.post(`/v1/chats/${chatId}/messages`, { text: `${prefix} ${i}` });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    sent.push(res.body);
  }
  return sent;
}
