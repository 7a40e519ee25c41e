import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { sql } from 'kysely';
import pg from 'pg';
import { pino } from 'pino';
import type { Actor } from '../src/auth/actor.ts';
import { loadConfig } from '../src/config.ts';
import type { Context } from '../src/context.ts';
import { openStore, type Store } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { MessageBatcher } from '../src/messages/message.batcher.ts';
import { isSubstringMatchable, parseQuery } from '../src/search/search.query.ts';
import { newestQuery } from '../src/search/newest.repository.ts';
import { drainSearchQueue } from '../src/search/search.indexer.ts';
import { combinedQuery, findSearchScope, searchQuery } from '../src/search/search.repository.ts';
import { searchMessages } from '../src/search/search.service.ts';
import { machine, percentile, table } from './harness.ts';
import { buildDataset, contentWords, loadDataset, random, type Dataset } from './search-data.ts';

/**
 * Search benchmark: loads a chat-shaped data set (bench/search-data.ts) and times `searchMessages` — the service
 * behind GET /v1/search/messages: the caller's scope, the search statement, highlights — for users picked at random,
 * by kind of query. Then prints EXPLAIN ANALYZE of the heaviest cases.
 *
 *   DATABASE_URL=postgres://... npm run bench -- search   PostgreSQL: 1,000,000 messages in a fresh schema, dropped after
 *   npm run bench -- search                                PGlite in memory: 100,000 messages (single-threaded WASM)
 *
 * BENCH_MESSAGES  data set size          BENCH_QUERIES  timed queries per kind (default 200)
 * BENCH_SCHEMA    use (and keep) this schema; a loaded one is reused as it is
 * BENCH_KEEP=1    keep the generated schema
 */

interface Kind {
  name: string;
  note: string;
  queries: string[];
}

const ms = (n: number) => (Number.isNaN(n) ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1));

function pick<T>(items: T[], rng: () => number): T {
  return items[Math.floor(rng() * items.length)]!;
}

/** Query kinds by how many messages they match; frequencies follow from the data set's Zipf law. */
function queryKinds(data: Dataset, sampleTexts: string[], count: number, rng: () => number): Kind[] {
  const words = contentWords(data.vocabulary);
  const known = new Set(words);
  const band = (from: number, to: number) => words.slice(from, Math.min(to, words.length));
  const frequent = band(0, 20);
  const medium = band(100, 1000);
  const rare = band(3000, 20000);
  const many = (make: () => string) => Array.from({ length: count }, make);
  const fragment = (length: number) => () => {
    let word = '';
    while (word.length < length + 2) {
      word = pick(band(50, 5000), rng);
    }
    const start = 1 + Math.floor(rng() * (word.length - length - 1));
    return word.slice(start, start + length);
  };
  const phrase = () => {
    for (;;) {
      const tokens = pick(sampleTexts, rng)
        .toLowerCase()
        .replace(/[?.]/g, '')
        .split(' ')
        .filter((w) => known.has(w));
      if (tokens.length >= 2) {
        const at = Math.floor(rng() * (tokens.length - 1));
        return `"${tokens[at]} ${tokens[at + 1]}"`;
      }
    }
  };
  return [
    {
      name: 'word · frequent',
      note: 'top 20 words, each in 2–6% of messages',
      queries: many(() => pick(frequent, rng)),
    },
    {
      name: 'word · medium',
      note: 'words ranked 100–1,000: 0.1–1% of messages',
      queries: many(() => pick(medium, rng)),
    },
    {
      name: 'word · rare',
      note: 'words ranked 3,000+: < 0.03% of messages',
      queries: many(() => pick(rare, rng)),
    },
    { name: 'phrase', note: '"two words" taken from a message', queries: many(phrase) },
    {
      name: 'substring',
      note: '4–5 letters from inside a word',
      queries: many(() => fragment(4 + Math.floor(rng() * 2))()),
    },
    {
      name: 'substring · 3 letters',
      note: 'stress: one trigram, common fragments',
      queries: many(fragment(3)),
    },
  ];
}

async function timeQueries(
  ctx: Context,
  actors: Actor[],
  queries: string[],
  rng: () => number,
  concurrency = 1,
): Promise<{ latencies: number[]; seconds: number; hits: number }> {
  const latencies: number[] = [];
  let hits = 0;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < queries.length) {
      const q = queries[next++]!;
      const actor = pick(actors, rng);
      const t0 = performance.now();
      const page = await searchMessages(ctx, actor, { q });
      latencies.push(performance.now() - t0);
      hits += page.data.length;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies: latencies.sort((a, b) => a - b), seconds: (performance.now() - started) / 1000, hits };
}

function actorFor(tenantId: string, userId: string): Actor {
  return {
    tenantId,
    userId,
    isAdmin: false,
    permissions: [],
    profile: { username: null, displayName: null },
  };
}

/** The statements the service runs: the ranked whole words, both parts in one statement, the tail read chat by chat. */
type Part = 'ranked' | 'combined' | 'walk';

async function explain(store: Store, actor: Actor, q: string, part: Part): Promise<string> {
  const scope = await findSearchScope(store.db, actor.tenantId, actor.userId);
  const parsed = parseQuery(q);
  const substring = parsed.groups
    .filter((g) => g.include.some(isSubstringMatchable))
    .map((g) => ({ include: g.include.map((t) => t.text), exclude: g.exclude.map((t) => t.text) }));
  const params = {
    chatIds: scope.chatIds,
    config: scope.config,
    query: parsed.text,
    substring,
    after: null,
    limit: 51,
  };
  const query =
    part === 'ranked'
      ? searchQuery(params)
      : part === 'combined'
        ? combinedQuery(params)
        : newestQuery(params, { partialOnly: true, plan: 'walk' });
  const result = await sql<Record<string, string>>`explain (analyze, buffers) ${query}`.execute(store.db);
  return result.rows
    .map((row) => Object.values(row)[0]!)
    .map((line) => line.replace(/'\{[^}]{60,}\}'/g, `'{… ${scope.chatIds.length} chat ids …}'`))
    .join('\n');
}

export async function run(): Promise<void> {
  const url = process.env.DATABASE_URL;
  const engine = url ? 'postgres' : 'pglite';
  const messages = Number(process.env.BENCH_MESSAGES ?? (url ? 1_000_000 : 100_000));
  const perKind = Number(process.env.BENCH_QUERIES ?? 200);
  const givenSchema = process.env.BENCH_SCHEMA;
  const schema = givenSchema ?? `parley_bench_${randomBytes(4).toString('hex')}`;
  const keep = process.env.BENCH_KEEP === '1' || givenSchema !== undefined;
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
    PARLEY_DATA_DIR: 'memory://',
    DB_POOL_SIZE: '8',
    // Loading and vacuuming a million messages takes longer than any request may.
    DB_QUERY_TIMEOUT_MS: '0',
    ...(url ? { DATABASE_URL: url, DB_SCHEMA: schema } : {}),
  });
  const store = await openStore(config.database);
  const ctx: Context = {
    db: store.db,
    limits: config.limits,
    events: { publish: () => {} },
    log: pino({ level: 'silent' }),
    sends: new MessageBatcher(store.db, { maxInFlight: 1, maxBatch: 500 }),
  };
  try {
    await migrateToLatest(store.db);
    const data = buildDataset({ messages });
    const loaded = await sql<{ n: number }>`select count(*)::int as n from messages`.execute(store.db);
    if ((loaded.rows[0]?.n ?? 0) < messages * 0.9) {
      process.stderr.write(
        `${engine}${url ? ` (schema ${schema})` : ''}: generating ${messages.toLocaleString('en')} messages, ` +
          `${data.chatIds.length.toLocaleString('en')} chats, ${data.userIds.length.toLocaleString('en')} users\n`,
      );
      await loadDataset(store.db, data, { messages, concurrency: url ? 2 : 1 });
    } else {
      process.stderr.write(
        `reusing ${loaded.rows[0]!.n.toLocaleString('en')} messages in schema ${schema}\n`,
      );
    }
    // Everything loaded is indexed before searching (the indexer's work, timed apart from the searches).
    const indexing = Date.now();
    let indexed = 0;
    for (let taken = 1; taken > 0; indexed += taken) {
      taken = await drainSearchQueue(store.db, { wait: true, limit: 20_000 });
    }
    if (indexed > 0) {
      process.stderr.write(
        `indexed ${indexed.toLocaleString('en')} messages in ${Date.now() - indexing} ms\n`,
      );
    }
    // The steady state: autovacuum keeps GIN pending lists short; right after a bulk load they are long.
    await sql`vacuum analyze messages`.execute(store.db);
    await sql`vacuum analyze message_search`.execute(store.db);
    await sql`vacuum message_search_queue`.execute(store.db);

    const rng = random(1234);
    const sampleTexts = (
      await sql<{ text: string }>`
        select text from messages
         where chat_id = any(${data.chatIds.slice(0, 200)}::text[]) and seq <= 10 and text is not null`.execute(
        store.db,
      )
    ).rows.map((r) => r.text);
    const sampledUsers = Array.from({ length: 200 }, () => pick(data.userIds, rng));
    const scopes = (
      await sql<{ user_id: string; chats: number; messages: number }>`
        select m.user_id, count(*)::int as chats, sum(c.message_count)::int as messages
          from members m join chats c on c.id = m.chat_id
         where m.tenant_id = ${data.tenantId} and m.user_id = any(${sampledUsers}::text[])
         group by m.user_id`.execute(store.db)
    ).rows.sort((a, b) => a.messages - b.messages);
    const actors = scopes.map((s) => actorFor(data.tenantId, s.user_id));
    const kinds = queryKinds(data, sampleTexts, perKind, rng);

    // Warm up: plans, caches, connections.
    await timeQueries(
      ctx,
      actors,
      kinds.flatMap((k) => k.queries.slice(0, 10)),
      rng,
    );

    const rows: Record<string, string | number>[] = [];
    const row = (kind: string, sorted: number[], hits: string, what: string) => ({
      kind,
      'p50 ms': ms(percentile(sorted, 50)),
      'p95 ms': ms(percentile(sorted, 95)),
      'p99 ms': ms(percentile(sorted, 99)),
      'max ms': ms(sorted[sorted.length - 1] ?? NaN),
      'hits/page': hits,
      what,
    });
    const words: number[] = [];
    for (const kind of kinds) {
      process.stderr.write(`timing ${kind.name}...\n`);
      const { latencies, hits } = await timeQueries(ctx, actors, kind.queries, rng);
      if (kind.name.startsWith('word')) {
        words.push(...latencies);
      }
      rows.push(row(kind.name, latencies, (hits / latencies.length).toFixed(1), kind.note));
    }
    rows.push(
      row(
        'word (all three)',
        words.sort((a, b) => a - b),
        '',
        'frequent, medium and rare together',
      ),
    );
    const mixed = [...kinds[0]!.queries, ...kinds[1]!.queries, ...kinds[2]!.queries, ...kinds[4]!.queries];
    for (let i = mixed.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [mixed[i], mixed[j]] = [mixed[j]!, mixed[i]!];
    }
    const concurrency = Math.max(2, os.availableParallelism() * 2);
    process.stderr.write(`timing ${concurrency} concurrent searches...\n`);
    const loaded_ = await timeQueries(ctx, actors, mixed, rng, concurrency);

    const settings = url
      ? (
          await sql<{ name: string; setting: string; unit: string | null }>`
            select name, setting, unit from pg_settings
             where name in ('shared_buffers', 'work_mem', 'random_page_cost', 'effective_cache_size',
                            'max_parallel_workers_per_gather', 'jit')`.execute(store.db)
        ).rows
          .map((s) => `${s.name}=${s.setting}${s.unit ?? ''}`)
          .join(', ')
      : 'defaults';
    const version = (await sql<{ v: string }>`select version() as v`.execute(store.db)).rows[0]!.v;
    const sizes = (
      await sql<{ name: string; size: string }>`
        select c.relname as name, pg_size_pretty(pg_relation_size(c.oid)) as size
          from pg_class c join pg_index i on i.indexrelid = c.oid
         where i.indrelid = 'messages'::regclass and c.relname like 'messages\\_%' order by c.relname`.execute(
        store.db,
      )
    ).rows;
    const scopeSizes = scopes.map((s) => s.messages);
    const chatCounts = scopes.map((s) => s.chats).sort((a, b) => a - b);
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';

    console.log(`\n## Search benchmark — ${engine}, ${messages.toLocaleString('en')} messages\n`);
    console.log(`Machine: ${machine()}, ${cpu}`);
    console.log(`Database: ${version.split(',')[0]}; ${settings}`);
    console.log(
      `Data: ${data.userIds.length.toLocaleString('en')} users, ${data.chatIds.length.toLocaleString('en')} chats, ` +
        `one tenant; the sampled users' scopes: ${percentile(chatCounts, 50)} chats and ` +
        `${percentile(scopeSizes, 50)?.toLocaleString('en')} messages (median), up to ` +
        `${scopeSizes[scopeSizes.length - 1]?.toLocaleString('en')} messages`,
    );
    console.log(`Indexes: ${sizes.map((s) => `${s.name} ${s.size}`).join(', ')}\n`);
    console.log(
      `searchMessages() — scope, search, highlights; first page of 50 — one at a time, ${perKind} queries per ` +
        `kind, each by a user drawn from ${actors.length}:\n`,
    );
    table(rows);
    console.log(
      `\nUnder load: ${concurrency} concurrent searches (words and substrings mixed): ` +
        `${(mixed.length / loaded_.seconds).toFixed(0)} searches/s, p50 ${ms(percentile(loaded_.latencies, 50))} ms, ` +
        `p99 ${ms(percentile(loaded_.latencies, 99))} ms\n`,
    );

    const heaviest = actors[actors.length - 1]!;
    const largest = scopes[scopes.length - 1]!;
    const cases: [string, Part, string][] = [
      [kinds[0]!.queries[0]!, 'ranked', 'the ranked whole words'],
      [kinds[4]!.queries[0]!, 'combined', 'whole and partial words in one statement, from the indexes'],
      [kinds[5]!.queries[0]!, 'walk', 'the part-of-word tail, read chat by chat newest first'],
    ];
    for (const [q, part, what] of cases) {
      process.stdout.write(
        `EXPLAIN (ANALYZE, BUFFERS) of ${what}, q=${JSON.stringify(q)}, user ${heaviest.userId} ` +
          `(${largest.chats} chats, ${largest.messages.toLocaleString('en')} messages):\n\n`,
      );
      console.log(`${await explain(store, heaviest, q, part)}\n`);
    }
  } finally {
    await store.close();
    if (url && !keep) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await client.end();
      }
      process.stderr.write(`dropped schema ${schema}\n`);
    }
  }
}
