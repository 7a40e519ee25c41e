import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { CLIENT_SHAPED } from '../src/db/statements.ts';
import type { MessageFilter } from '../src/messages/message.filter.ts';
import {
  chatMessagesQuery,
  countMessagesQuery,
  findMessagesQuery,
} from '../src/messages/filter.repository.ts';
import { createTestApp, ENGINE, type Client, type TestApp } from './support/app.ts';
import { nodes, plan, type PlanNode } from './support/plans.ts';

/**
 * How the SourceLoop dialect's hot routes run (send, a channel's newest messages, its count): from an index, as
 * prepared statements, answering a send without reading it back. What they answer is the dialect's own tests'.
 */

const BASE = '/sourceloop';
const ALL = ['ViewMessage', 'CreateMessage', 'UpdateMessage', 'DeleteMessage'];

interface SlMessage {
  id: string;
  body: string | null;
  channelId: string;
  createdOn: string;
  [key: string]: unknown;
}

const q = (value: unknown) => encodeURIComponent(JSON.stringify(value));

/** Whether some Sort node of `plan` sorts rows read from `relation` (the recipient lookup sorts a chat's members). */
function sortsOver(plan: PlanNode, relation: string, under = false): boolean {
  const sorting = under || plan['Node Type'] === 'Sort';
  if (sorting && plan['Relation Name'] === relation) {
    return true;
  }
  return (plan.Plans ?? []).some((child) => sortsOver(child, relation, sorting));
}

const describeNode = (n: PlanNode) =>
  `${n['Node Type']}${n['Relation Name'] ? ` ${n['Relation Name']}` : ''}${n['Index Name'] ? ` using ${n['Index Name']}` : ''}`;

describe(`SourceLoop hot routes: plans and statements (${ENGINE})`, () => {
  let t: TestApp;
  let alice: Client;
  let bob: Client;
  let channelId: string;
  const filterOf = (order: MessageFilter['order']): MessageFilter => ({
    where: { field: 'chatId', op: '=', value: channelId },
    order,
    offset: 0,
    limit: 50,
  });

  before(async () => {
    // One connection: what one query prepared is what the next one sees.
    t = await createTestApp({ DIALECTS: 'sourceloop', DB_POOL_SIZE: '1' });
    alice = await t.login('slspeed-alice', { permissions: ALL });
    bob = await t.login('slspeed-bob', { permissions: ALL });
    const chat = await alice.post('/v1/chats', { kind: 'group', name: 'slspeed', members: ['slspeed-bob'] });
    channelId = chat.body.id;
    for (let i = 0; i < 30; i++) {
      const sent = await bob.post(`${BASE}/messages`, { body: `m${i}`, channelId, channelType: 'group' });
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
    }
    // A channel of a few thousand messages, as in use: a sort of the whole channel then costs what it does.
    const db = t.app.parley.ctx.db;
    await sql`insert into messages (chat_id, seq, id, author_id, text, created_at)
              select ${channelId}, 30 + g, 'slspeed-bulk-' || g, 'slspeed-bob', 'bulk ' || g,
                     now() - interval '1 hour' + g * interval '1 ms'
              from generate_series(1, 3000) g`.execute(db);
    await sql`update chats set last_seq = 3030, message_count = 3030 where id = ${channelId}`.execute(db);
    await sql`analyze`.execute(db);
  });
  after(async () => {
    await t.close();
  });

  it('lists a channel by createdOn from the time index, without sorting it', async () => {
    const db = t.app.parley.ctx.db;
    for (const order of [
      [{ field: 'createdAt', direction: 'desc' }],
      [{ field: 'createdAt', direction: 'asc' }],
      [],
    ] as MessageFilter['order'][]) {
      const read = await plan(db, findMessagesQuery('default', 'slspeed-alice', filterOf(order)).compile(db));
      const shown = read.map(describeNode).join('; ');
      assert.ok(
        read.some((n) => n['Index Name'] === 'messages_chat_created_idx'),
        `${JSON.stringify(order)}: ${shown}`,
      );
      assert.ok(!sortsOver(read[0]!, 'messages'), `${JSON.stringify(order)}: ${shown}`);
      assert.ok(!read.some((n) => n['Node Type'] === 'Seq Scan'), `${JSON.stringify(order)}: ${shown}`);
    }
  });

  it("counts one channel from its chat's counter, reading no message", async () => {
    const db = t.app.parley.ctx.db;
    const compiled = countMessagesQuery('default', 'slspeed-alice', {
      field: 'chatId',
      op: '=',
      value: channelId,
    }).compile(db);
    const read = await plan(db, compiled);
    const shown = read.map(describeNode).join('; ');
    assert.ok(!read.some((n) => n['Relation Name'] === 'messages'), shown);
    assert.ok(
      read.some((n) => n['Index Name'] === 'chats_pkey'),
      shown,
    );
  });

  it('counts other conditions without the context a list shows (no recipient lookup)', async () => {
    const db = t.app.parley.ctx.db;
    const compiled = countMessagesQuery('default', 'slspeed-alice', {
      and: [
        { field: 'chatId', op: '=', value: channelId },
        { field: 'authorId', op: '=', value: 'slspeed-bob' },
      ],
    }).compile(db);
    const read = await plan(db, compiled);
    const shown = read.map(describeNode).join('; ');
    // members is read once, for the caller's membership; the list's recipient lookup reads it again per message.
    assert.equal(read.filter((n) => n['Relation Name'] === 'members').length, 1, shown);
    assert.equal(read.filter((n) => n['Relation Name'] === 'messages').length, 1, shown);
  });

  it('runs the list and the count as prepared statements that settle on one generic plan', async () => {
    const newest = q({ where: { channelId }, order: ['createdOn DESC'], limit: 50 });
    const count = q({ channelId, createdBy: 'slspeed-bob' });
    for (let i = 0; i < 12; i++) {
      const list = await alice.get<SlMessage[]>(`${BASE}/messages?filter=${newest}`);
      assert.equal(list.status, 200);
      assert.equal(list.body.length, 50);
      const counted = await alice.get<{ count: number }>(`${BASE}/messages/count?where=${count}`);
      assert.deepEqual(counted.body, { count: 3030 });
    }
    const db = t.app.parley.store.db;
    const { rows } = await sql<{
      name: string;
      statement: string;
      generic_plans: number;
      custom_plans: number;
    }>`
      select name, statement, generic_plans::int, custom_plans::int from pg_prepared_statements`.execute(db);
    const shaped = rows.filter((r) => r.statement.includes(CLIENT_SHAPED));
    assert.ok(
      shaped.some((r) => /order by/.test(r.statement)),
      'the list is prepared',
    );
    assert.ok(
      shaped.some((r) => /count\(\*\)/.test(r.statement)),
      'the count is prepared',
    );
    for (const row of shaped) {
      assert.ok(row.generic_plans >= 5, `generic plans ${row.generic_plans}: ${row.statement.slice(0, 120)}`);
      assert.ok(row.custom_plans <= 5, `custom plans ${row.custom_plans}`);
    }
    // A list read again (the chat unchanged) is the history cache's check: the statement that runs is the list
    // behind the member's check and the chat's state. The plan it settled on (the generic one), for a state the
    // chat has moved on from, reads the page from the index.
    const gated = chatMessagesQuery(
      { tenantId: 'default', userId: 'slspeed-alice' },
      channelId,
      filterOf([{ field: 'createdAt', direction: 'desc' }]),
      { lastSeq: 0, revision: 0, members: 0 },
    ).compile(db);
    const list = shaped.find((r) => r.statement.trim() === gated.sql.trim());
    assert.ok(list, 'the list behind the cache check is prepared');
    assert.ok(list.generic_plans >= 5, `generic plans ${list.generic_plans}`);
    const values = gated.parameters.map((value) => sql.lit(value as string | number));
    const explained = await sql<{
      'QUERY PLAN': [{ Plan: PlanNode }];
    }>`explain (format json) execute ${sql.raw(list.name)}(${sql.join(values)})`.execute(db);
    const read = nodes(explained.rows[0]!['QUERY PLAN'][0].Plan);
    const shown = read.map(describeNode).join('; ');
    assert.ok(
      read.some((n) => n['Index Name'] === 'messages_chat_created_idx'),
      shown,
    );
    assert.ok(!sortsOver(read[0]!, 'messages'), shown);
  });
});

describe(`SourceLoop hot routes: answers (${ENGINE})`, () => {
  let t: TestApp;
  let alice: Client;
  let bob: Client;
  let channelId: string;

  before(async () => {
    t = await createTestApp({ DIALECTS: 'sourceloop' });
    alice = await t.login('slfast-alice', { permissions: ALL });
    bob = await t.login('slfast-bob', { permissions: ALL });
    const chat = await alice.post('/v1/chats', { kind: 'group', name: 'slfast', members: ['slfast-bob'] });
    channelId = chat.body.id;
  });
  after(async () => {
    await t.close();
  });

  it('answers a send with the message as reading it back shows it: group, reply, direct by user and by channel', async () => {
    const first = await alice.post<SlMessage>(`${BASE}/messages`, {
      body: 'hello',
      channelId,
      channelType: 'group',
    });
    const reply = await bob.post<SlMessage>(`${BASE}/messages/${first.body.id}/messages`, {
      body: 'a reply',
      channelType: 'group',
    });
    const replyByParent = await bob.post<SlMessage>(`${BASE}/messages`, {
      body: 'another reply',
      channelId,
      channelType: 'group',
      parentMessageId: first.body.id,
    });
    const direct = await alice.post<SlMessage>(`${BASE}/messages`, {
      body: 'just us',
      toUserId: 'slfast-bob',
      channelType: 'direct',
    });
    // Bob answers in the direct channel by its id: the recipient is the other member, alice.
    const back = await bob.post<SlMessage>(`${BASE}/messages`, {
      body: 'hi alice',
      channelId: direct.body.channelId,
      channelType: 'direct',
    });
    // What the client sent beside the text is answered as stored: subject, status, channelType.
    const withProperties = await alice.post<SlMessage>(`${BASE}/messages`, {
      body: 'with properties',
      channelId,
      channelType: 'support',
      subject: 'a subject',
      status: 3,
    });
    const directWithProperties = await bob.post<SlMessage>(`${BASE}/messages/${direct.body.id}/messages`, {
      body: 'a direct reply',
      channelType: 'direct',
      subject: 'also a subject',
      status: -1,
    });
    for (const [sent, by] of [
      [first, alice],
      [reply, bob],
      [replyByParent, bob],
      [direct, alice],
      [back, bob],
      [withProperties, alice],
      [directWithProperties, bob],
    ] as const) {
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      const read = await by.get<SlMessage>(`${BASE}/messages/${sent.body.id}`);
      assert.equal(read.status, 200);
      // A create answer leaves out what has no value, as LoopBack's does (a read shows it as null): the rest is equal.
      const shown = Object.fromEntries(Object.entries(read.body).filter(([, value]) => value !== null));
      assert.deepEqual(sent.body, shown);
      for (const [key, value] of Object.entries(read.body)) {
        assert.ok(key in sent.body || value === null, key);
      }
    }
    assert.equal(withProperties.body.subject, 'a subject');
    assert.equal(withProperties.body.status, 3);
    assert.equal(withProperties.body.channelType, 'support');
    assert.equal(directWithProperties.body.subject, 'also a subject');
    assert.equal(directWithProperties.body.status, -1);
    assert.equal(directWithProperties.body.toUserId, 'slfast-alice');
    assert.equal(directWithProperties.body.parentMessageId, direct.body.id);
    assert.equal(first.body.status, 0);
    assert.equal(first.body.channelType, 'group');
    assert.equal('subject' in first.body, false);
    assert.equal(reply.body.parentMessageId, first.body.id);
    assert.equal(direct.body.toUserId, 'slfast-bob');
    assert.equal(direct.body.channelType, 'direct');
    assert.equal(back.body.toUserId, 'slfast-alice');
    assert.equal('toUserId' in first.body, false);
  });

  it('orders by createdOn at millisecond precision, ties the same way every time, later orderings breaking them', async () => {
    const chat = await alice.post('/v1/chats', {
      kind: 'group',
      name: 'slfast-ties',
      members: ['slfast-bob'],
    });
    const ch = chat.body.id;
    const bodies = ['d', 'b', 'c', 'a'];
    for (const body of bodies) {
      await alice.post(`${BASE}/messages`, { body, channelId: ch, channelType: 'group' });
    }
    // The first three within one millisecond (at different microseconds, the first the latest), the last later.
    await sql`update messages set created_at = '2030-01-01T00:00:00.000123Z'::timestamptz - (seq * interval '10 microseconds')
              where chat_id = ${ch} and seq <= 3`.execute(t.app.parley.ctx.db);
    await sql`update messages set created_at = '2030-01-01T00:00:00.005Z' where chat_id = ${ch} and seq = 4`.execute(
      t.app.parley.ctx.db,
    );
    const find = async (filter: unknown) => {
      const res = await alice.get<SlMessage[]>(`${BASE}/messages?filter=${q(filter)}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.map((m) => m.body);
    };
    // Last ordering createdOn: within the millisecond by the stored time, then by channel and seq.
    assert.deepEqual(await find({ where: { channelId: ch }, order: 'createdOn DESC' }), ['a', 'd', 'b', 'c']);
    assert.deepEqual(await find({ where: { channelId: ch }, order: 'createdOn ASC' }), ['c', 'b', 'd', 'a']);
    assert.deepEqual(await find({ where: { channelId: ch } }), ['c', 'b', 'd', 'a']);
    // Another ordering after createdOn: the millisecond ties are its to break.
    assert.deepEqual(await find({ where: { channelId: ch }, order: ['createdOn DESC', 'body ASC'] }), [
      'a',
      'b',
      'c',
      'd',
    ]);
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await find({ where: { channelId: ch }, order: 'createdOn DESC', limit: 2, skip: 1 }), [
        'd',
        'b',
      ]);
    }
  });

  it("counts a channel's live messages, as listing them does, through sends and deletes", async () => {
    const chat = await alice.post('/v1/chats', {
      kind: 'group',
      name: 'slfast-count',
      members: ['slfast-bob'],
    });
    const ch = chat.body.id;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const sent = await bob.post<SlMessage>(`${BASE}/messages`, {
        body: `c${i}`,
        channelId: ch,
        channelType: 'group',
      });
      ids.push(sent.body.id);
    }
    const count = async (as: Client, where: unknown) =>
      (await as.get<{ count: number }>(`${BASE}/messages/count?where=${q(where)}`)).body.count;
    assert.equal(await count(alice, { channelId: ch }), 5);
    assert.equal((await bob.delete(`${BASE}/messages/${ids[1]}`)).status, 204);
    assert.equal((await bob.delete(`${BASE}/messages/${ids[3]}`)).status, 204);
    const listed = await alice.get<SlMessage[]>(`${BASE}/messages?filter=${q({ where: { channelId: ch } })}`);
    assert.equal(listed.body.length, 3);
    assert.equal(await count(alice, { channelId: ch }), 3);
    assert.equal(await count(alice, { channelId: { eq: ch } }), 3);
    assert.equal(await count(alice, { channelId: ch, createdBy: 'slfast-bob' }), 3);
    // Conditions on what a client sent beside the text join it only then, and count as a list shows it.
    assert.equal(await count(alice, { channelId: ch, status: 0 }), 3);
    assert.equal(await count(alice, { channelId: ch, channelType: 'group', subject: null }), 3);
    assert.equal(await count(alice, { channelId: ch, status: 1 }), 0);
    // Not a member: nothing to count, as nothing to list.
    const eve = await t.login('slfast-eve', { permissions: ALL });
    assert.equal(await count(eve, { channelId: ch }), 0);
    // A deleted chat counts nothing either.
    assert.equal((await alice.delete(`/v1/chats/${ch}`)).status, 204);
    assert.equal(await count(alice, { channelId: ch }), 0);
  });
});

describe(`SourceLoop: a send is written whole, lists are served again while their channel is unchanged (${ENGINE})`, () => {
  let t: TestApp;
  let alice: Client;
  let bob: Client;

  before(async () => {
    t = await createTestApp({ DIALECTS: 'sourceloop' });
    alice = await t.login('slwhole-alice', { permissions: ALL });
    bob = await t.login('slwhole-bob', { permissions: ALL });
  });
  after(async () => {
    await t.close();
  });

  const group = async (name: string) =>
    (await alice.post('/v1/chats', { kind: 'group', name, members: ['slwhole-bob'] })).body.id;
  const stored = async (chatId: string) => {
    const { rows } = await sql<{ messages: number; properties: number; last_seq: number }>`
      select (select count(*)::int from messages where chat_id = ${chatId}) as messages,
             (select count(*)::int from message_properties where chat_id = ${chatId}) as properties,
             (select last_seq from chats where id = ${chatId}) as last_seq`.execute(t.app.parley.ctx.db);
    return rows[0]!;
  };

  it('writes a message and what was sent beside it together, or neither', async () => {
    const ch = await group('slwhole-atomic');
    const ok = await alice.post<SlMessage>(`${BASE}/messages`, {
      body: 'kept',
      channelId: ch,
      channelType: 'group',
      subject: 'fine',
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(await stored(ch), { messages: 1, properties: 1, last_seq: 1 });
    // The database refuses the properties (a rule of its own, as a deployment may add one): the whole send fails,
    // and no message is left without them.
    await sql`alter table message_properties add constraint slwhole_no_secret check (subject is distinct from 'secret')`.execute(
      t.app.parley.ctx.db,
    );
    try {
      const refused = await alice.post(`${BASE}/messages`, {
        body: 'must not stay',
        channelId: ch,
        channelType: 'group',
        subject: 'secret',
      });
      assert.equal(refused.status, 500, JSON.stringify(refused.body));
      assert.deepEqual(await stored(ch), { messages: 1, properties: 1, last_seq: 1 });
      const listed = await alice.get<SlMessage[]>(
        `${BASE}/messages?filter=${q({ where: { channelId: ch } })}`,
      );
      assert.deepEqual(
        listed.body.map((m) => m.body),
        ['kept'],
      );
    } finally {
      await sql`alter table message_properties drop constraint slwhole_no_secret`.execute(
        t.app.parley.ctx.db,
      );
    }
    // What PostgreSQL cannot store at all is refused before it reaches a batch of other people's sends.
    for (const field of ['subject', 'channelType']) {
      const nul = await alice.post<{ error: { statusCode: number; details: { path: string }[] } }>(
        `${BASE}/messages`,
        { body: 'nul', channelId: ch, channelType: 'group', [field]: 'a\u0000b' },
      );
      assert.equal(nul.status, 422, JSON.stringify(nul.body));
      assert.equal(nul.body.error.details[0]?.path, `/${field}`);
    }
    assert.deepEqual(await stored(ch), { messages: 1, properties: 1, last_seq: 1 });
    const next = await alice.post<SlMessage>(`${BASE}/messages`, {
      body: 'next',
      channelId: ch,
      channelType: 'x',
    });
    assert.equal(next.status, 200);
    assert.deepEqual(await stored(ch), { messages: 2, properties: 2, last_seq: 2 });
  });

  it('serves a channel list again while nothing it shows has changed, and reads it anew after any change', async () => {
    const cache = t.app.parley.ctx.history!;
    const ch = await group('slwhole-cached');
    const sent: SlMessage[] = [];
    for (let i = 0; i < 3; i++) {
      sent.push(
        (
          await bob.post<SlMessage>(`${BASE}/messages`, {
            body: `c${i}`,
            channelId: ch,
            channelType: 'group',
          })
        ).body,
      );
    }
    const newest = `${BASE}/messages?filter=${q({ where: { channelId: ch }, order: ['createdOn DESC'], limit: 2 })}`;
    const list = async (as: Client = alice) => {
      const res = await as.get<SlMessage[]>(newest);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    };
    const first = await list();
    assert.deepEqual(
      first.map((m) => m.body),
      ['c2', 'c1'],
    );
    const hits = cache.hits;
    assert.deepEqual(await list(bob), first, 'the same list for every member');
    assert.equal(cache.hits, hits + 1, 'served again');
    // What the list shows beside the text, changed through the API and by anyone else.
    assert.equal(
      (await bob.patch(`${BASE}/messages/${sent[2]!.id}`, { subject: 'now', status: 5 })).status,
      204,
    );
    assert.deepEqual(
      (await list()).map((m) => [m.subject, m.status]),
      [
        ['now', 5],
        [null, 0],
      ],
    );
    await sql`update message_properties set status = 6 where chat_id = ${ch} and seq = 3`.execute(
      t.app.parley.ctx.db,
    );
    assert.equal((await list())[0]!.status, 6, 'a property changed by anyone');
    await sql`delete from message_properties where chat_id = ${ch} and seq = 3`.execute(t.app.parley.ctx.db);
    assert.deepEqual([(await list())[0]!.subject, (await list())[0]!.channelType], [null, 'group']);
    // A message sent natively, edited, deleted.
    assert.equal((await alice.post(`/v1/chats/${ch}/messages`, { text: 'native' })).status, 201);
    assert.deepEqual(
      (await list()).map((m) => m.body),
      ['native', 'c2'],
    );
    assert.equal((await alice.patch(`/v1/chats/${ch}/messages/4`, { text: 'edited' })).status, 200);
    assert.equal((await list())[0]!.body, 'edited');
    assert.equal((await alice.delete(`/v1/chats/${ch}/messages/4`)).status, 204);
    assert.deepEqual(
      (await list()).map((m) => m.body),
      ['c2', 'c1'],
    );
    // Whoever is not a member sees nothing, cached list or not.
    const eve = await t.login('slwhole-eve', { permissions: ALL });
    assert.deepEqual(await list(eve), []);
    assert.equal((await alice.delete(`/v1/chats/${ch}/members/slwhole-bob`)).status, 204);
    assert.deepEqual(await list(bob), [], 'a former member');
  });

  it("shows a direct channel's recipient as it is now, after its other member is deleted", async () => {
    const carol = await t.login('slwhole-carol', { permissions: ALL });
    const dave = await t.login('slwhole-dave', { permissions: ALL });
    const direct = await carol.post<SlMessage>(`${BASE}/messages`, {
      body: 'hi dave',
      toUserId: 'slwhole-dave',
      channelType: 'direct',
    });
    assert.equal(direct.status, 200, JSON.stringify(direct.body));
    const ch = direct.body.channelId;
    assert.equal(
      (await dave.post(`${BASE}/messages`, { body: 'hi carol', channelId: ch, channelType: 'direct' }))
        .status,
      200,
    );
    const url = `${BASE}/messages?filter=${q({ where: { channelId: ch }, order: ['createdOn ASC'] })}`;
    const recipients = async () => (await carol.get<SlMessage[]>(url)).body.map((m) => m.toUserId);
    assert.deepEqual(await recipients(), ['slwhole-dave', 'slwhole-carol']);
    assert.deepEqual(await recipients(), ['slwhole-dave', 'slwhole-carol'], 'served again');
    assert.equal((await dave.delete('/v1/me')).status, 204);
    // Dave's membership went with him: carol's message has no recipient left; his still names her.
    assert.deepEqual(await recipients(), [null, 'slwhole-carol']);
    const uncached = await carol.get<SlMessage[]>(
      `${BASE}/messages?filter=${q({ where: { channelId: ch, body: { neq: 'x' } }, order: ['createdOn ASC'] })}`,
    );
    assert.deepEqual(
      uncached.body.map((m) => m.toUserId),
      [null, 'slwhole-carol'],
      'as a list the cache does not keep shows it',
    );
  });
});
