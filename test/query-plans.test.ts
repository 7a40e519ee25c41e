import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { viewerQuery } from '../src/chats/chat.repository.ts';
import { countChatsQuery } from '../src/chats/membership.repository.ts';
import { chatPageQuery, memberHistoryQuery } from '../src/messages/history.repository.ts';
import { historyQuery } from '../src/messages/message.repository.ts';
import { unreadSummaryQuery } from '../src/messages/unread.repository.ts';
import { createTestApp, ENGINE, type TestApp } from './support/app.ts';
import { nodes, plan, type PlanNode } from './support/plans.ts';
import { createGroup, sendMessages } from './support/factories.ts';

function scans(plan: PlanNode[]): string[] {
  return plan
    .filter((n) => n['Relation Name'])
    .map(
      (n) => `${n['Node Type']} ${n['Relation Name']}${n['Index Name'] ? ` using ${n['Index Name']}` : ''}`,
    );
}

describe(`query plans of the hot reads (${ENGINE})`, () => {
  let t: TestApp;
  let chatId: string;
  before(async () => {
    t = await createTestApp();
    const alice = await t.login('plan-alice');
    const bob = await t.login('plan-bob');
    chatId = (await createGroup(alice, [bob])).id;
    await sendMessages(bob, chatId, 5);
    // Enough other people's chats that reading one user's memberships by index is plainly the right plan.
    const db = t.app.parley.ctx.db;
    await sql`insert into users (tenant_id, id, username)
              select 'default', 'bulk-' || g, 'bulk-' || g from generate_series(1, 2000) g`.execute(db);
    await sql`insert into chats (id, tenant_id, number, kind, name, created_by)
              select 'bulk-chat-' || g, 'default', 100000 + g, 'group', null, 'bulk-' || g
              from generate_series(1, 2000) g`.execute(db);
    await sql`insert into members (chat_id, tenant_id, user_id, role)
              select 'bulk-chat-' || g, 'default', 'bulk-' || g, 'owner' from generate_series(1, 2000) g`.execute(
      db,
    );
    // And their files (not linked to a message), so that reading a message's files by the chat and seq is plainly
    // the way, not a walk of every file.
    await sql`insert into attachments (id, tenant_id, chat_id, file_key, created_by, sha256)
              select 'bulk-file-' || g, 'default', 'bulk-chat-' || g, 'bulk-file-' || g, 'bulk-' || g, 'h' || g
              from generate_series(1, 2000) g`.execute(db);
    await sql`analyze`.execute(db);
  });
  after(async () => {
    await t.close();
  });

  it('reads a history page as one bounded range scan of the messages primary key', async () => {
    const db = t.app.parley.ctx.db;
    for (const range of [
      { limit: 51, direction: 'backward' as const },
      { after: 2, limit: 51, direction: 'forward' as const },
      { before: 4, limit: 51, direction: 'backward' as const },
    ]) {
      const compiled = historyQuery(db, chatId, range).compile();
      assert.match(compiled.sql, /^select "chat_id", "seq", .* from "messages" where "chat_id" = \$1/);
      for (const query of [
        compiled,
        // As the API runs it: gated by the caller's membership, still one round trip.
        memberHistoryQuery(db, { tenantId: 'default', userId: 'plan-alice' }, chatId, range).compile(db),
        // The read concurrent misses share (each checked its membership first): the same page behind the chat.
        chatPageQuery(db, 'default', chatId, range, ['plan-alice']).compile(db),
      ]) {
        const nodes = await plan(db, query);
        const read = scans(nodes);
        assert.ok(
          read.every((s) => !s.startsWith('Seq Scan')),
          read.join('; '),
        );
        const indexes = new Set(nodes.flatMap((n) => (n['Index Name'] ? [n['Index Name']] : [])));
        assert.ok(indexes.has('messages_pkey'), [...indexes].join(', '));
        assert.ok(
          // Each message's reaction counts, mentions and files: one probe of their indexes.
          [...indexes].every((name) =>
            [
              'messages_pkey',
              'chats_pkey',
              'members_pkey',
              'message_reaction_counts_pkey',
              'message_mentions_message_idx',
              'attachments_message_files_idx',
            ].includes(name),
          ),
          [...indexes].join(', '),
        );
        // Bounded below whatever the direction: the scan reads the page, not the chat's whole history.
        for (const node of nodes.filter((n) => n['Index Name'] === 'messages_pkey')) {
          assert.match(node['Index Cond'] ?? '', /seq >=? /, node['Index Cond']);
        }
      }
    }
  });

  it('skips the page scan entirely when the chat is still at the state a cached page was read at', async () => {
    const db = t.app.parley.ctx.db;
    const state = await sql<{ last_seq: number; history_revision: number }>`
      select last_seq, history_revision from chats where id = ${chatId}`.execute(db);
    const known = { lastSeq: state.rows[0]!.last_seq, revision: state.rows[0]!.history_revision };
    const viewer = { tenantId: 'default', userId: 'plan-alice' };
    const analyze = async (k: typeof known) => {
      const compiled = memberHistoryQuery(
        db,
        viewer,
        chatId,
        { limit: 51, direction: 'backward' },
        k,
      ).compile(db);
      const result = await db.executeQuery<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>({
        ...compiled,
        sql: `explain (analyze, format json) ${compiled.sql}`,
      });
      return nodes(result.rows[0]!['QUERY PLAN'][0].Plan).filter((n) => n['Relation Name'] === 'messages');
    };
    const unchanged = await analyze(known);
    assert.ok(unchanged.length > 0);
    for (const node of unchanged) {
      assert.equal(node['Actual Loops'], 0, `${node['Node Type']} of messages is never executed`);
    }
    const moved = await analyze({ ...known, revision: known.revision - 1 });
    assert.ok(
      moved.some((n) => (n['Actual Loops'] ?? 0) > 0),
      'a state that moved on reads the page',
    );
  });

  it('computes the unread summary from memberships and chat counters, reading deleted messages only', async () => {
    const db = t.app.parley.ctx.db;
    const read = scans(await plan(db, unreadSummaryQuery('default', 'plan-alice').compile(db)));
    assert.ok(
      read.every((s) => !s.startsWith('Seq Scan')),
      read.join('; '),
    );
    assert.ok(
      read.some((s) => /members using members_user_idx/.test(s)),
      read.join('; '),
    );
    assert.ok(
      read.some((s) => /chats using chats_pkey/.test(s)),
      read.join('; '),
    );
    // Messages are looked at only through the index of deleted ones (or of thread replies), and only for a chat that has one past the
    // cursor, or by primary key for a mention past it; mentions only through their own indexes.
    const messageScans = read.filter((s) => / messages /.test(s));
    assert.ok(
      messageScans.every((s) =>
        /using messages_(deleted|thread_only|thread)_idx|using messages_pkey/.test(s),
      ),
      read.join('; '),
    );
    assert.ok(
      read.filter((s) => / message_mentions /.test(s)).every((s) => /using message_mentions_\w+_idx/.test(s)),
      read.join('; '),
    );
    // The threads part of the same statement: the user's thread memberships by their index.
    assert.ok(
      read.some((s) => /thread_members using thread_members_user_idx/.test(s)),
      read.join('; '),
    );
    const rows = await unreadSummaryQuery('default', 'plan-alice').execute(db);
    assert.deepEqual(rows.rows, [
      {
        chat_id: chatId,
        root_seq: null,
        last_read_seq: 0,
        unread_count: 5,
        mention_count: 0,
        s_muted: false,
        s_muted_until: null,
        s_archived: false,
        s_hidden: false,
      },
    ]);
  });

  it('lists chats from the membership index with per-chat key lookups', async () => {
    const db = t.app.parley.ctx.db;
    const read = scans(await plan(db, viewerQuery('default', 'plan-alice', sql`true`, 51).compile(db)));
    assert.ok(
      read.every((s) => !s.startsWith('Seq Scan')),
      read.join('; '),
    );
    assert.ok(
      read.some((s) => /members using members_user_idx/.test(s)),
      read.join('; '),
    );
    assert.ok(
      read.some((s) => /chats using chats_pkey/.test(s)),
      read.join('; '),
    );
  });

  it('plans the per-user reads once per connection, whoever the user is', async () => {
    // Skewed memberships, as in any real tenant: ten heavy users in 2,000 chats each, plan-alice in one. With the user
    // as a plain parameter the planner prices each execution for the user at hand; a connection whose first
    // executions were for light users finds their custom plans cheaper than the generic one (priced for the average
    // user) and plans every execution anew. Run as the API runs them (named statements, one connection), each read
    // must settle on the generic plan after PostgreSQL's five custom ones.
    const db = t.app.parley.ctx.db;
    await sql`insert into users (tenant_id, id, username)
              select 'default', 'plan-heavy-' || h, 'plan-heavy-' || h from generate_series(1, 10) h`.execute(
      db,
    );
    await sql`insert into members (chat_id, tenant_id, user_id, role)
              select 'bulk-chat-' || g, 'default', 'plan-heavy-' || h, 'member'
              from generate_series(1, 2000) g, generate_series(1, 10) h`.execute(db);
    await sql`analyze`.execute(db);
    const reads = [
      (userId: string) => unreadSummaryQuery('default', userId).compile(db),
      (userId: string) => viewerQuery('default', userId, sql`true`, 51).compile(db),
    ];
    const counts = await db.connection().execute(async (conn) => {
      for (let i = 0; i < 12; i++) {
        for (const read of reads) {
          await conn.executeQuery(read('plan-alice'));
        }
      }
      const result = await sql<{ statement: string; generic_plans: number; custom_plans: number }>`
        select statement, generic_plans::int, custom_plans::int from pg_prepared_statements`.execute(conn);
      return reads.map((read) => {
        const text = read('plan-alice').sql;
        const row = result.rows.find((r) => r.statement === text);
        assert.ok(row, `prepared: ${text.slice(0, 80)}`);
        return row;
      });
    });
    for (const { generic_plans, custom_plans } of counts) {
      assert.ok(custom_plans <= 5, `custom plans: ${custom_plans}`);
      assert.ok(generic_plans >= 5, `generic plans: ${generic_plans}`);
    }
  });

  it("looks each membership's chat up by key, whatever the statistics make a join look like", async () => {
    // Where users are each in a fair share of a tenant's chats (100 users in 10,000 chats of 4), the planner, pricing
    // the average user, would rather read every chat into a hash table than look the user's up; here nested loops are
    // priced out to stand for such statistics. The per-user reads must still look each chat up by its key.
    const db = t.app.parley.ctx.db;
    for (const query of [
      unreadSummaryQuery('default', 'plan-alice').compile(db),
      viewerQuery('default', 'plan-alice', sql`true`, 51).compile(db),
      countChatsQuery('default', 'plan-alice').compile(db),
    ]) {
      const chats = (await plan(db, query, { enable_nestloop: 'off' })).filter(
        (n) => n['Relation Name'] === 'chats',
      );
      assert.ok(chats.length > 0, query.sql);
      for (const node of chats) {
        assert.match(
          node['Index Cond'] ?? '',
          /\(id = \w+\.chat_id\)/,
          `${node['Node Type']} of chats: ${query.sql}`,
        );
      }
    }
  });
});
