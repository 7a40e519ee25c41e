/**
 * `npm run bench` runs every scenario but the opt-in ones; `npm run bench -- search` (or several names) runs those;
 * `--soak` is `soak`; `--list` lists them. A scenario prints its report on stdout (progress on stderr). To add one:
 * export an async function from a module in bench/ and list it below; the import happens only when the scenario runs.
 */
interface Scenario {
  description: string;
  run: () => Promise<void>;
  /** Runs only when named: it takes minutes, or measures something other than Parley's speed. */
  optIn?: boolean;
}

const scenarios: Record<string, Scenario> = {
  http: {
    description:
      'REST under load (autocannon, BENCH_CONNECTIONS=50, BENCH_SECONDS=10): send over 1000 chats, send into one hot ' +
      'chat, history page, chat list, unread summary, against a Fastify hello-route baseline measured in the same run',
    run: async () => (await import('./http.ts')).http(),
  },
  scale: {
    description:
      'a tenant of 100 users and 10,000 chats built through the API (chat creations timed in tenths, as the tables ' +
      'grow), then sends, history, unread summary and chat list on it (BENCH_SCALE_USERS, BENCH_SCALE_CHATS, ' +
      'BENCH_SCALE_MEMBERS=4, BENCH_SCALE_MESSAGES=2)',
    run: async () => (await import('./scale.ts')).scale(),
    optIn: true,
  },
  dialects: {
    description:
      "the dialects' hot routes (send, list/history, SourceLoop's count) next to the native ones, and SourceLoop's " +
      'against the published @sourceloop/chat-service on the same PostgreSQL, with CPU per request of each server ' +
      'and its database (BENCH_CONNECTIONS=32, BENCH_SECONDS=4, BENCH_ROUNDS=3, BENCH_DIALECTS, BENCH_HISTORY)',
    run: async () => (await import('./dialects.ts')).dialects(),
    optIn: true,
  },
  fanout: {
    description:
      'real-time fan-out: N sockets in one group, latency of each delivery at a fixed rate, against a plain ws ' +
      'broadcast measured in the same run (FANOUT_SOCKETS=1000, FANOUT_MESSAGES=300, FANOUT_RATE=100, FANOUT_ROUNDS=2)',
    run: async () => (await import('./realtime.ts')).fanout(),
  },
  webhooks: {
    description:
      'webhook deliveries: sends over many chats with one subscription to a local receiver; deliveries/s and the ' +
      'p50/p99 delay from commit to receipt (BENCH_WEBHOOK_MESSAGES=5000, BENCH_CONNECTIONS=50, BENCH_WEBHOOK_CHATS=100)',
    run: async () => (await import('./webhooks.ts')).webhooks(),
  },
  connections: {
    description:
      'idle WebSockets held by one process: connect rate, memory per socket (IDLE_SOCKETS=10000; IDLE_CHATS=0 group chats per user)',
    run: async () => (await import('./realtime.ts')).connections(),
  },
  search: {
    description: 'message search over 1,000,000 messages on PostgreSQL (DATABASE_URL), 100,000 on PGlite',
    run: async () => (await import('./search.ts')).run(),
  },
  metrics: {
    description:
      'what metrics cost: the same requests against a server with metrics and one with PARLEY_METRICS=false, ' +
      'in alternating rounds (BENCH_ROUNDS=3, BENCH_SECONDS=5)',
    run: async () => (await import('./metrics.ts')).metricsOverhead(),
    optIn: true,
  },
  durability: {
    description:
      'what durable commits cost on PGlite: sends against a server with PARLEY_DURABLE=true and one with false, ' +
      'in alternating rounds with the Fastify hello baseline in each (BENCH_ROUNDS=6, BENCH_SECONDS=5, BENCH_CHATS)',
    run: async () => (await import('./durability.ts')).durability(),
    optIn: true,
  },
  files: {
    description:
      'file uploads: a BENCH_FILE_MB (50) MiB file through the typed client, BENCH_ROUNDS (3) of new content and ' +
      'one already stored, each downloaded back; throughput and the server RSS before, at its peak and after',
    run: async () => (await import('./files.ts')).files(),
    optIn: true,
  },
  soak: {
    description:
      'soak: sends and reads from 16 clients plus 6 stream clients for BENCH_SOAK_MINUTES (default 2, at most 60), ' +
      'sampling server RSS and heap from /metrics every BENCH_SOAK_SAMPLE_SECONDS (5); flags RSS growth over ' +
      'BENCH_SOAK_GROWTH_PERCENT (10) from the middle third to the last',
    run: async () => (await import('./soak.ts')).soak(),
    optIn: true,
  },
};

const args = process.argv.slice(2).map((arg) => (arg === '--soak' ? 'soak' : arg));
if (args.includes('--list') || args.includes('--help')) {
  for (const [name, scenario] of Object.entries(scenarios)) {
    console.log(`${name.padEnd(12)} ${scenario.optIn ? '(only when named) ' : ''}${scenario.description}`);
  }
  process.exit(0);
}
const unknown = args.filter((name) => !(name in scenarios));
if (unknown.length > 0) {
  console.error(
    `npm run bench: no scenario ${unknown.join(', ')}; there are: ${Object.keys(scenarios).join(', ')}`,
  );
  process.exit(2);
}
const chosen = args.length > 0 ? args : Object.keys(scenarios).filter((name) => !scenarios[name]!.optIn);
for (const name of chosen) {
  console.error(`== bench: ${name}`);
  await scenarios[name]!.run();
}
