import { sql, type Kysely } from 'kysely';
import type { Database } from '../src/db/database.ts';
import { newId } from '../src/ids.ts';
import { Progress } from './progress.ts';

/**
 * A synthetic but chat-shaped data set for the search benchmark, the same for the same size and seed:
 * - `messages / 200` users and `messages / 50` group chats in one tenant;
 * - chat sizes and chat activity both fall off like 1/rank, so a few channels are big and busy (the first has 40% of
 *   all users and ~2.5% of all messages) and most chats are small and quiet; every user is in ~20 chats, and
 *   everyone's search scope differs: from a few hundred to a few hundred thousand messages;
 * - message text: 4–20 words, a third stop words, the rest drawn by a Zipf law from ~170 common chat words followed by
 *   ~22,000 made-up words (the long tail of names, codes and jargon), 3% with an accented word; 1% are deleted.
 */

export interface DatasetOptions {
  messages: number;
  seed?: number;
}

export interface Dataset {
  tenantId: string;
  userIds: string[];
  chatIds: string[];
  /** Member user ids per chat, by chat index. */
  members: string[][];
  vocabulary: Vocabulary;
}

export interface Vocabulary {
  /** Ordered from the most to the least frequent. */
  common: string[];
  rare: string[];
  accented: string[];
}

const STOP = ['the', 'a', 'to', 'and', 'of', 'is', 'in', 'it', 'for', 'on', 'we', 'i', 'you', 'this', 'that'];
const STOP_TAIL = [
  'with',
  'be',
  'at',
  'can',
  'will',
  'just',
  'so',
  'not',
  'are',
  'have',
  'do',
  'but',
  'if',
  'our',
];

const COMMON =
  `meeting thanks please today tomorrow deploy release review build test server database customer project
report issue ticket bug fix merge branch lunch coffee week team call update plan schedule office launch budget
invoice email message chat search index latency incident outage alert dashboard metrics weekend holiday document
draft slides demo feedback question answer idea price order shipping payment account password login mobile android
iphone browser cache config deadline sprint roadmap quarter hiring interview candidate contract legal security
backup storage network cluster kubernetes docker python typescript postgres redis kafka phone travel flight hotel
conference workshop training welcome congrats birthday party pizza weather rain snow happy great good sorry late
early ready done blocked urgent quick later maybe sure meetings deployed deploying deployment reviewed builds tests
testing running runs run reports issues bugs fixed updates customers queries query monday friday yesterday
running ran runner`
    .split(/\s+/)
    .filter(Boolean);

const ACCENTED =
  `café résumé naïve crème brûlée São Zürich façade jalapeño piñata smörgåsbord Ångström déjà über
Kraków Málaga Ærøskøbing Çanakkale`
    .split(/\s+/)
    .filter(Boolean);

const SYLLABLES =
  `ka lo mi ren tor vel shi pa dun bre qui zo fen lar mok sti gra nel pho tre vak ul dor sen bi
ran ko`
    .split(/\s+/)
    .filter(Boolean);

/** mulberry32: small, fast and good enough to make the same data set twice. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws index r with probability proportional to 1 / (r + offset)^s. */
function zipf(n: number, s: number, offset: number, rng: () => number): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let r = 0; r < n; r++) {
    total += 1 / Math.pow(r + offset, s);
    cdf[r] = total;
  }
  return () => {
    const x = rng() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < x) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  };
}

function vocabulary(): Vocabulary {
  const rare: string[] = [];
  for (const a of SYLLABLES) {
    for (const b of SYLLABLES) {
      rare.push(a + b);
      for (const c of SYLLABLES) {
        rare.push(a + b + c);
      }
    }
  }
  // A fixed shuffle, so that frequency does not follow the alphabet.
  const rng = random(7);
  for (let i = rare.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [rare[i], rare[j]] = [rare[j]!, rare[i]!];
  }
  return { common: COMMON, rare, accented: ACCENTED };
}

export function buildDataset(options: DatasetOptions): Dataset {
  const rng = random(options.seed ?? 42);
  const userCount = Math.max(10, Math.round(options.messages / 200));
  const chatCount = Math.max(5, Math.round(options.messages / 50));
  const userIds = Array.from({ length: userCount }, (_, i) => `u${String(i + 1).padStart(6, '0')}`);
  const chatIds = Array.from({ length: chatCount }, (_, i) => `bench-chat-${String(i + 1).padStart(6, '0')}`);
  const members = chatIds.map((_, i) => {
    const size = Math.min(userCount, Math.max(2, Math.round((userCount * 0.4) / (1 + i / 5))));
    const chosen = new Set<string>();
    while (chosen.size < size) {
      chosen.add(userIds[Math.floor(rng() * userCount)]!);
    }
    return [...chosen];
  });
  return { tenantId: 'bench', userIds, chatIds, members, vocabulary: vocabulary() };
}

/** Content words, most frequent first: the common chat words, then the made-up long tail. */
export function contentWords(vocab: Vocabulary): string[] {
  return [...vocab.common, ...vocab.rare];
}

/**
 * Message texts: a third stop words, the rest one Zipf law (s = 1.05) over the content words, which puts the most
 * frequent word in ~6% of messages, the 100th in ~1%, the 1,000th in ~0.1% and the 10,000th in ~0.01%.
 */
function textMaker(vocab: Vocabulary, rng: () => number): () => string {
  const content = contentWords(vocab);
  const word = zipf(content.length, 1.05, 20, rng);
  const stops = [...STOP, ...STOP_TAIL];
  const stop = zipf(stops.length, 1, 1, rng);
  return () => {
    const length = 4 + Math.floor(rng() * 17);
    const words: string[] = [];
    for (let i = 0; i < length; i++) {
      words.push(rng() < 0.35 ? stops[stop()]! : content[word()]!);
    }
    if (rng() < 0.03) {
      words.splice(
        Math.floor(rng() * words.length),
        0,
        vocab.accented[Math.floor(rng() * vocab.accented.length)]!,
      );
    }
    const text = words.join(' ');
    return text.charAt(0).toUpperCase() + text.slice(1) + (rng() < 0.3 ? '?' : rng() < 0.5 ? '.' : '');
  };
}

async function inBatches<T>(
  rows: T[],
  size: number,
  write: (batch: T[]) => Promise<unknown>,
  progress?: Progress,
): Promise<void> {
  for (let i = 0; i < rows.length; i += size) {
    const batch = rows.slice(i, i + size);
    await write(batch);
    progress?.add(batch.length);
  }
}

/**
 * Writes the data set with multi-row INSERTs (1,000 rows a statement, `concurrency` statements in flight), through
 * the same table, trigger and indexes the service uses; shows a progress bar on stderr.
 */
export async function loadDataset(
  db: Kysely<Database>,
  data: Dataset,
  options: DatasetOptions & { concurrency: number },
): Promise<void> {
  const rng = random((options.seed ?? 42) + 1);
  const now = Date.now();
  const yearAgo = now - 365 * 24 * 3600 * 1000;

  await db
    .insertInto('tenants')
    .values({ id: data.tenantId, name: 'Search benchmark' })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  await inBatches(data.userIds, 1000, (batch) =>
    db
      .insertInto('users')
      .values(
        batch.map((id) => ({
          tenant_id: data.tenantId,
          id,
          username: id,
          display_name: id,
          status_text: null,
        })),
      )
      .execute(),
  );
  await inBatches(
    data.chatIds.map((id, i) => ({ id, i })),
    1000,
    (batch) =>
      db
        .insertInto('chats')
        .values(
          batch.map(({ id, i }) => ({
            id,
            tenant_id: data.tenantId,
            number: i + 1,
            kind: 'group' as const,
            name: id,
            name_key: id,
            topic: null,
            visibility: 'private' as const,
            direct_key: null,
            created_by: data.members[i]![0]!,
            created_at: new Date(yearAgo - 1000),
            member_count: data.members[i]!.length,
            last_message_at: null,
            deleted_at: null,
          })),
        )
        .execute(),
  );
  const memberRows = data.chatIds.flatMap((chatId, i) =>
    data.members[i]!.map((userId, j) => ({
      chat_id: chatId,
      tenant_id: data.tenantId,
      user_id: userId,
      role: j === 0 ? ('owner' as const) : ('member' as const),
    })),
  );
  await inBatches(memberRows, 2000, (batch) => db.insertInto('members').values(batch).execute());

  const chatOf = zipf(data.chatIds.length, 1, 5, rng);
  const text = textMaker(data.vocabulary, rng);
  const seqs = new Int32Array(data.chatIds.length);
  const total = options.messages;
  const progress = new Progress('loading messages', total, 'messages');
  let next = 0;
  const makeBatch = () => {
    const rows = [];
    const end = Math.min(total, next + 1000);
    for (; next < end; next++) {
      const chat = chatOf();
      const seq = ++seqs[chat]!;
      const chatMembers = data.members[chat]!;
      const deleted = rng() < 0.01;
      const createdAt = new Date(yearAgo + Math.floor(((now - yearAgo) * next) / total));
      const body = text();
      rows.push({
        chat_id: data.chatIds[chat]!,
        seq,
        id: newId(),
        author_id: chatMembers[Math.floor(rng() * chatMembers.length)]!,
        text: deleted ? null : body,
        reply_to: null,
        client_id: null,
        created_at: createdAt,
        edited_at: null,
        deleted_at: deleted ? createdAt : null,
      });
    }
    return rows;
  };
  // Batches are made in order (seqs and times ascend per chat) and written by `concurrency` writers.
  const writer = async () => {
    while (next < total) {
      const rows = makeBatch();
      await db.insertInto('messages').values(rows).execute();
      progress.add(rows.length);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, writer));
  progress.finish();

  process.stderr.write('updating chat counters and statistics...\n');
  await sql`
    update chats c
       set last_seq = s.last_seq, message_count = s.live, last_message_at = s.last_at
      from (select chat_id, max(seq) as last_seq, count(*) filter (where deleted_at is null) as live,
                   max(created_at) as last_at
              from messages group by chat_id) s
     where s.chat_id = c.id`.execute(db);
  await sql`analyze tenants, users, chats, members, messages`.execute(db);
}
