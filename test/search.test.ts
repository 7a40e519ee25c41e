import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { newestQuery } from '../src/search/newest.repository.ts';
import { searchQuery } from '../src/search/search.repository.ts';
import { searchChat } from '../src/search/search.service.ts';
import type { MessageView, Page, SearchHitView } from './support/api.ts';
import { createTestApp, type Client, type Response, type TestApp } from './support/app.ts';
import { assertError } from './support/assertions.ts';
import { createGroup } from './support/factories.ts';

/** GET /v1/search/messages with the query string built from `params`. */
function search(client: Client, params: Record<string, string | number>) {
  const query = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]));
  return client.get(`/v1/search/messages?${query}`);
}

async function send(client: Client, chatId: string, text: string): Promise<MessageView> {
  const res = await client.post(`/v1/chats/${chatId}/messages`, { text });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

const texts = (res: Response<Page<SearchHitView>>) => res.body.data.map((hit) => hit.message.text);

describe('search', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => {
    await t.close();
  });

  /** A user with a chat of their own holding `messages`, sent in this order. */
  async function setup(name: string, messages: string[]) {
    const user = await t.login(`${name}-owner`);
    const chat = await createGroup(user);
    const sent = [];
    for (const text of messages) {
      sent.push(await send(user, chat.id, text));
    }
    return { user, chat, sent };
  }

  it('finds whole words in any form: stemming, case and word order do not matter', async () => {
    const { user } = await setup('word', [
      'She runs the Deployment pipeline',
      'nothing to see here',
      'RUNNING late for the deploy',
    ]);
    const res = await search(user, { q: 'running' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(texts(res).sort(), ['RUNNING late for the deploy', 'She runs the Deployment pipeline']);
    const both = await search(user, { q: 'deployment RUN' });
    assert.deepEqual(texts(both).sort(), ['RUNNING late for the deploy', 'She runs the Deployment pipeline']);
    const hit = both.body.data[0];
    assert.ok(hit);
    assert.deepEqual(Object.keys(hit).sort(), ['highlight', 'message', 'rank']);
    assert.deepEqual(Object.keys(hit.message).sort(), [
      'alsoInChat',
      'authorId',
      'chatId',
      'clientId',
      'createdAt',
      'deletedAt',
      'editedAt',
      'id',
      'replyTo',
      'seq',
      'text',
      'thread',
      'threadRoot',
    ]);
    assert.ok(hit.rank > 0);
  });

  it('marks stemmed matches in the highlight', async () => {
    const { user } = await setup('mark', ['We were running the numbers']);
    const res = await search(user, { q: 'runs' });
    assert.deepEqual(
      res.body.data.map((h) => h.highlight),
      ['We were <mark>running</mark> the numbers'],
    );
  });

  it('matches "quoted phrases" only with the words in that order', async () => {
    const { user } = await setup('phrase', [
      'the release notes are out',
      'notes about the release',
      'release the kraken, then write notes',
    ]);
    const res = await search(user, { q: '"release notes"' });
    assert.deepEqual(texts(res), ['the release notes are out']);
    assert.equal(res.body.data[0]?.highlight, 'the <mark>release notes</mark> are out');
    const unquoted = await search(user, { q: 'release notes' });
    assert.equal(unquoted.body.data.length, 3);
  });

  it('supports OR and -exclusion', async () => {
    const { user } = await setup('ops', [
      'invoice for march',
      'receipt for april',
      'deploy to staging',
      'deploy to production',
      'deploys to staging servers',
    ]);
    assert.deepEqual(texts(await search(user, { q: 'invoice OR receipt' })).sort(), [
      'invoice for march',
      'receipt for april',
    ]);
    assert.deepEqual(texts(await search(user, { q: 'invoice or receipt' })).length, 2);
    assert.deepEqual(texts(await search(user, { q: 'deploy -staging' })), ['deploy to production']);
    assert.deepEqual(texts(await search(user, { q: 'deploy -"to staging"' })), ['deploy to production']);
  });

  it('finds prefixes and parts of words (3+ letters), ignoring case', async () => {
    const { user } = await setup('part', ['hello world', 'Kubernetes cluster upgrade', 'say HELLO']);
    const ello = await search(user, { q: 'ello' });
    assert.deepEqual(texts(ello).sort(), ['hello world', 'say HELLO']);
    const byText = Object.fromEntries(ello.body.data.map((h) => [h.message.text, h]));
    assert.equal(byText['hello world'].highlight, 'h<mark>ello</mark> world');
    assert.equal(byText['say HELLO'].highlight, 'say H<mark>ELLO</mark>');
    assert.equal(byText['hello world'].rank, 0);
    assert.deepEqual(texts(await search(user, { q: 'kube' })), ['Kubernetes cluster upgrade']);
    assert.deepEqual(texts(await search(user, { q: 'ERNET' })), ['Kubernetes cluster upgrade']);
    assert.deepEqual(texts(await search(user, { q: 'clus upgr' })), ['Kubernetes cluster upgrade']);
    // Two letters are too few for a partial match: only whole words.
    assert.deepEqual(texts(await search(user, { q: 'he' })), []);
  });

  it('ignores accents in both directions and highlights the original text', async () => {
    const { user } = await setup('accent', [
      'Café au lait',
      'crème brûlée',
      'Zurich is not Zürich',
      'plain cafe',
    ]);
    assert.deepEqual(texts(await search(user, { q: 'cafe' })).sort(), ['Café au lait', 'plain cafe']);
    assert.deepEqual(texts(await search(user, { q: 'CAFÉ' })).sort(), ['Café au lait', 'plain cafe']);
    assert.deepEqual(texts(await search(user, { q: 'brulee' })), ['crème brûlée']);
    assert.deepEqual(texts(await search(user, { q: 'rûl' })), ['crème brûlée']);
    const zurich = await search(user, { q: 'zurich' });
    assert.equal(zurich.body.data[0]?.highlight, '<mark>Zurich</mark> is not <mark>Zürich</mark>');
    const partial = await search(user, { q: 'brul' });
    assert.equal(partial.body.data[0]?.highlight, 'crème <mark>brûl</mark>ée');
  });

  it('ranks whole-word matches above partial ones, then newer above older', async () => {
    const { user } = await setup('rank', ['we deploy today', 'it was redeployed', 'deploy again']);
    const res = await search(user, { q: 'deploy' });
    assert.deepEqual(texts(res), ['deploy again', 'we deploy today', 'it was redeployed']);
    const ranks = res.body.data.map((h) => h.rank);
    assert.ok((ranks[0] ?? 0) > 0 && (ranks[1] ?? 0) > 0 && ranks[2] === 0, JSON.stringify(ranks));
    const recent = await search(user, { q: 'deploy', sort: 'recent' });
    assert.deepEqual(texts(recent), ['deploy again', 'it was redeployed', 'we deploy today']);
  });

  it("searches only the caller's chats; chatId narrows to one, 404 unless a member", async () => {
    const alice = await t.login('scope-alice');
    const bob = await t.login('scope-bob');
    const carol = await t.login('scope-carol');
    const shared = await createGroup(alice, [bob]);
    const private_ = await createGroup(alice);
    const bobs = await createGroup(bob, [carol]);
    await send(alice, shared.id, 'zebrafish in the shared chat');
    await send(alice, private_.id, 'zebrafish in the private chat');
    await send(carol, bobs.id, 'zebrafish in bob and carol chat');

    assert.deepEqual(texts(await search(alice, { q: 'zebrafish' })).sort(), [
      'zebrafish in the private chat',
      'zebrafish in the shared chat',
    ]);
    assert.deepEqual(texts(await search(bob, { q: 'zebrafish' })).sort(), [
      'zebrafish in bob and carol chat',
      'zebrafish in the shared chat',
    ]);
    assert.deepEqual(texts(await search(carol, { q: 'zebra' })), ['zebrafish in bob and carol chat']);
    assert.deepEqual(texts(await search(alice, { q: 'zebrafish', chatId: shared.id })), [
      'zebrafish in the shared chat',
    ]);

    for (const chatId of [bobs.id, 'no-such-chat']) {
      const res = await search(alice, { q: 'zebrafish', chatId });
      assertError(res, 404, 'not_found');
    }
    // Another tenant sees nothing, even with the chat's id.
    const mallory = await t.login('scope-alice', { tenant: 'search-other' });
    assert.deepEqual(texts(await search(mallory, { q: 'zebrafish' })), []);
    assert.equal((await search(mallory, { q: 'zebrafish', chatId: shared.id })).status, 404);

    // Leaving a chat takes its messages out of your results.
    assert.equal((await bob.delete(`/v1/chats/${shared.id}/members/${bob.userId}`)).status, 204);
    assert.deepEqual(texts(await search(bob, { q: 'zebrafish' })), ['zebrafish in bob and carol chat']);
  });

  it('reflects edits and deletes at once', async () => {
    const { user, chat, sent } = await setup('change', ['the walrus plan', 'another walrus', 'kept']);
    assert.equal(
      (await user.patch(`/v1/chats/${chat.id}/messages/1`, { text: 'the narwhal plan' })).status,
      200,
    );
    assert.equal((await user.delete(`/v1/chats/${chat.id}/messages/2`)).status, 204);
    assert.deepEqual(texts(await search(user, { q: 'walrus' })), []);
    assert.deepEqual(texts(await search(user, { q: 'walr' })), []);
    const narwhal = await search(user, { q: 'narwhal' });
    assert.equal(narwhal.body.data.length, 1);
    assert.equal(narwhal.body.data[0]?.message.id, sent[0]?.id);
    assert.ok(narwhal.body.data[0]?.message.editedAt);
  });

  it('excludes messages of deleted chats', async () => {
    const { user, chat } = await setup('gone', ['ocelot sighting']);
    assert.equal(texts(await search(user, { q: 'ocelot' })).length, 1);
    assert.equal((await user.delete(`/v1/chats/${chat.id}`)).status, 204);
    assert.deepEqual(texts(await search(user, { q: 'ocelot' })), []);
  });

  it('pages with a stable cursor: every match once, in order, unaffected by new messages', async () => {
    const { user, chat } = await setup(
      'page',
      Array.from({ length: 7 }, (_, i) => `capybara number ${i + 1}`),
    );
    await send(user, chat.id, 'unrelated');
    const seen: (string | null)[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const params: Record<string, string | number> = { q: 'capybara', limit: 3, sort: 'recent' };
      if (cursor) {
        params.cursor = cursor;
      }
      const res = await search(user, params);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      seen.push(...texts(res));
      cursor = res.body.nextCursor;
      pages++;
      if (pages === 1) {
        // Sent after the first page: a later page neither repeats nor skips because of it.
        await send(user, chat.id, 'capybara number 8');
      }
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(
      seen,
      [7, 6, 5, 4, 3, 2, 1].map((n) => `capybara number ${n}`),
    );

    // Relevance order pages the same way: all seven (and the new one) exactly once.
    const ranked: (string | null)[] = [];
    cursor = null;
    do {
      const params: Record<string, string | number> = { q: 'capybara', limit: 2 };
      if (cursor) {
        params.cursor = cursor;
      }
      const res = await search(user, params);
      ranked.push(...texts(res));
      cursor = res.body.nextCursor;
    } while (cursor);
    assert.equal(ranked.length, 8);
    assert.equal(new Set(ranked).size, 8);
  });

  it('refuses a cursor from another search and one it did not issue', async () => {
    const { user } = await setup('cursor', ['llama one', 'llama two', 'llama three']);
    const first = await search(user, { q: 'llama', limit: 1 });
    assert.ok(first.body.nextCursor);
    const cases: Record<string, string | number>[] = [
      { q: 'alpaca', limit: 1, cursor: first.body.nextCursor },
      { q: 'llama', limit: 1, sort: 'recent', cursor: first.body.nextCursor },
      { q: 'llama', cursor: 'bm9wZQ' },
    ];
    for (const params of cases) {
      const res = await search(user, params);
      assert.equal(res.status, 400, JSON.stringify(params));
      assertError(res, 400, 'invalid_request', /^cursor: /);
    }
  });

  it('validates q, limit and unknown parameters, naming the field', async () => {
    const user = await t.login('validate');
    const cases: [Record<string, string | number>, RegExp][] = [
      [{}, /^q: is required/],
      [{ q: '' }, /^q: /],
      [{ q: '   ' }, /^q: must not be blank/],
      [{ q: 'x'.repeat(201) }, /^q: /],
      [{ q: '-alone' }, /^q: must contain a word to look for/],
      [{ q: 'cat OR -dog' }, /^q: must contain a word to look for/],
      [{ q: Array.from({ length: 17 }, (_, i) => `w${i}`).join(' ') }, /^q: must have at most 16/],
      [{ q: 'ok', limit: 0 }, /^limit: /],
      [{ q: 'ok', limit: 201 }, /^limit: /],
      [{ q: 'ok', sort: 'oldest' }, /^sort: /],
      [{ q: 'ok', extra: 1 }, /^extra: is not a known field/],
    ];
    for (const [params, message] of cases) {
      const res = await search(user, params);
      assert.equal(res.status, 400, JSON.stringify(params));
      assertError(res, 400, 'invalid_request', message);
    }
    assert.equal((await search(user, { q: 'x'.repeat(200) })).status, 200);
    assert.equal((await t.request('GET', '/v1/search/messages?q=hello')).status, 401);
  });

  it('takes q literally: LIKE wildcards and HTML in messages are just text', async () => {
    const { user } = await setup('literal', [
      'foo_bar is set',
      'fooxbar is not',
      '<b>bold</b> & "quoted"',
      '100% sure',
    ]);
    assert.deepEqual(texts(await search(user, { q: 'foo_bar' })), ['foo_bar is set']);
    assert.deepEqual(texts(await search(user, { q: '100%' })), ['100% sure']);
    const html = await search(user, { q: 'bold' });
    assert.equal(
      html.body.data[0]?.highlight,
      '&lt;b&gt;<mark>bold</mark>&lt;/b&gt; &amp; &quot;quoted&quot;',
    );
    const stopwords = await search(user, { q: 'the' });
    assert.equal(stopwords.status, 200);
  });

  it('cuts long messages to a window around the first match', async () => {
    const before = 'lorem ipsum dolor sit amet '.repeat(20);
    const afterText = ' consectetur adipiscing elit'.repeat(20);
    const { user } = await setup('snippet', [`${before}the platypus appears${afterText}`]);
    const res = await search(user, { q: 'platypus' });
    const [first] = res.body.data;
    assert.ok(first);
    const { highlight } = first;
    assert.ok(highlight.startsWith('…') && highlight.endsWith('…'), highlight);
    assert.match(highlight, /the <mark>platypus<\/mark> appears/);
    assert.ok(highlight.length < 230, String(highlight.length));
  });

  it("stems in the tenant's language (settings.searchLanguage)", async () => {
    const german = await t.login('lang-de', { tenant: 'search-de' });
    await sql`update tenants set settings = settings || '{"searchLanguage": "german"}'::jsonb where id = 'search-de'`.execute(
      t.app.parley.store.db,
    );
    const chat = await createGroup(german);
    await send(german, chat.id, 'Die Häuser sind schön');
    assert.deepEqual(texts(await search(german, { q: 'Hauses' })), ['Die Häuser sind schön']);
    // The default tenant stems in English: the German inflection does not match there.
    const { user } = await setup('lang-en', ['Die Häuser sind schön']);
    assert.deepEqual(texts(await search(user, { q: 'Hauses' })), []);
    assert.deepEqual(texts(await search(user, { q: 'hauser' })), ['Die Häuser sind schön']);
  });

  it('searchChat (for dialects) searches one chat with the same rules', async () => {
    const { user, chat } = await setup('dialect', ['meerkat party', 'no match']);
    const other = await setup('dialect-other', ['meerkat elsewhere']);
    const actor = {
      tenantId: 'default',
      userId: user.userId,
      isAdmin: false,
      permissions: [],
      profile: { username: null, displayName: null },
    };
    const page = await searchChat(t.app.parley.ctx, actor, chat.id, { q: 'meerkat' });
    assert.deepEqual(
      page.data.map((h) => h.message.text),
      ['meerkat party'],
    );
    assert.equal(page.data[0]!.highlight, '<mark>meerkat</mark> party');
    await assert.rejects(searchChat(t.app.parley.ctx, actor, other.chat.id, { q: 'meerkat' }), {
      code: 'not_found',
    });
    await assert.rejects(searchChat(t.app.parley.ctx, actor, chat.id, { q: 'meerkat', limit: 500 }), {
      code: 'invalid_request',
    });
  });

  it('reads its candidates through the GIN indexes', async () => {
    const db = t.app.parley.store.db;
    const params = {
      chatIds: ['c1', 'c2'],
      config: 1,
      query: 'hello wor',
      substring: [{ include: ['hello', 'wor'], exclude: ['bye'] }],
      after: { score: 5, createdUs: 1, chatId: 'c1', seq: 2 },
      limit: 51,
    };
    // The ranked part: whole words only.
    const { sql: text, parameters } = searchQuery(params).compile(db);
    assert.match(text, /x\.chat_id = any\(\$\d+::text\[\]\)/);
    assert.match(text, /m\.deleted_at is null/);
    assert.match(text, /x\.vector @@ websearch_to_tsquery\(\$\d+::oid::regconfig, \$\d+\)/);
    assert.doesNotMatch(text, / like /);
    assert.match(text, /\(s\.score, s\.created_us, s\.chat_id, s\.seq\) < \(/);
    assert.ok(parameters.includes('hello wor'));
    // The part-of-word tail, read by the indexes.
    const tail = newestQuery(params, { partialOnly: true, plan: 'bitmap' }).compile(db);
    assert.match(tail.sql, /x\.folded like '%' \|\| replace\(/);
    assert.match(tail.sql, /not \(x\.vector @@ phraseto_tsquery\(/);
    assert.ok(tail.parameters.includes('wor') && tail.parameters.includes('bye'));
    // The same expressions, planned with sequential scans off, go through the two GIN indexes of the search rows.
    let plan = '';
    const rolledBack = new Error('rolled back');
    await db
      .transaction()
      .execute(async (trx) => {
        await sql`set local enable_seqscan = off`.execute(trx);
        const result = await sql<Record<string, string>>`
          explain select 1 from message_search x
           where x.vector @@ websearch_to_tsquery('parley_english', 'hello')
              or x.folded like '%' || parley_fold('Héllo') || '%'`.execute(trx);
        plan = result.rows.map((row) => Object.values(row)[0]).join('\n');
        throw rolledBack;
      })
      .catch((error: unknown) => {
        if (error !== rolledBack) {
          throw error;
        }
      });
    assert.match(plan, /message_search_vector_idx/);
    assert.match(plan, /message_search_folded_idx/);
  });

  it('is described in the OpenAPI document', async () => {
    const res = await t.request<{
      paths: Record<string, Record<string, { parameters: { name: string }[] }>>;
    }>('GET', '/openapi.json');
    const op = res.body.paths['/v1/search/messages']?.get;
    assert.ok(op, 'GET /v1/search/messages is documented');
    assert.deepEqual(op.parameters.map((p) => p.name).sort(), ['chatId', 'cursor', 'limit', 'q', 'sort']);
  });
});
