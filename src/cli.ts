import { hostname } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { mintToken } from './auth/token.ts';
import { ConfigError } from './env.ts';
import { loadConfig, type Config } from './config.ts';
import type { Store } from './db/connect.ts';
import { DataDirInUseError } from './db/datadir-lock.ts';
import { explainDatabaseError } from './cli/explain.ts';
import { assertPortFree } from './cli/port.ts';

const HELP: Record<string, string> = {
  serve: `Usage: parley serve [--workers N|auto]

Starts the server (the default command). It migrates the database first unless PARLEY_MIGRATE=false, listens on
HOST:PORT (127.0.0.1:3000 outside production), and stops gracefully on Ctrl-C or SIGTERM.

Options:
  --workers <N|auto>     N server processes sharing the port (auto: one per core; default PARLEY_WORKERS, else
                         one process). Needs PostgreSQL and a bus between processes (PARLEY_BUS=postgres, the
                         default there, redis or nats). A worker that dies is replaced.`,
  migrate: `Usage: parley migrate

Applies pending database migrations and exits. Only needed with PARLEY_MIGRATE=false: a server migrates at start.
On the embedded database, stop the server first (one process at a time holds the data directory).`,
  token: `Usage: parley token --sub <user id> [options]

Prints a JWT signed with the configured secret (JWT_SECRET, or the one generated into the data directory), for
trying the API: curl -H "authorization: Bearer $(parley token --sub alice)" ...

Options:
  --sub <id>             the user (required)
  --admin                a tenant administrator (roles: ["admin"])
  --tenant <id>          the tenant (claim tid; default: the default tenant)
  --username <name>      the username to give the user when Parley first sees it
  --name <name>          the display name to give the user when Parley first sees it
  --permission <name>    a permission (claim permissions; repeat the option for several), as the SourceLoop
                         dialect asks for: --permission CreateMessage --permission ViewMessage
  --ttl <seconds>        how long it is valid (default 86400: a day)`,
  seed: `Usage: parley seed

Creates demo users alice, bob and carol, a group "general" with the three of them, and prints a token for each.
Beside a running server on the embedded database, it goes through that server's API.`,
};

const USAGE = `Usage: parley <command> [options]

Commands:
  serve       start the server (the default)
  migrate     apply pending database migrations and exit
  token       print a JWT signed with the configured secret, for trying the API
  seed        create demo users (alice, bob, carol) and a group chat, and print their tokens

parley <command> --help tells more about each. Configuration comes from the environment: see
docs/configuration.md.`;

/** A command's options; --help and -h everywhere. An unknown option is an error that shows the command's help. */
function options<T extends ParseArgsConfig['options']>(command: string, args: string[], known: T) {
  try {
    return parseArgs({ args, options: { ...known, help: { type: 'boolean', short: 'h' } }, strict: true });
  } catch (error) {
    throw new Error(
      `${command}: ${error instanceof Error ? error.message : String(error)}\n\n${HELP[command]}`,
      {
        cause: error,
      },
    );
  }
}

// The server, the database and the seed are loaded by the commands that use them: `--help` and `token` start fast.
async function migrate(config: Config): Promise<void> {
  const [{ openStore }, { migrateToLatest }] = await Promise.all([
    import('./db/connect.ts'),
    import('./db/migrate.ts'),
  ]);
  let store: Store;
  try {
    store = await openStore(config.database);
  } catch (error) {
    if (error instanceof DataDirInUseError && !error.sameProcess) {
      throw new Error(
        `migrate: ${error.message}\nA server applies pending migrations itself when it starts (PARLEY_MIGRATE, on ` +
          'by default); to run parley migrate, stop the server first.',
        { cause: error },
      );
    }
    throw error;
  }
  try {
    const { applied } = await migrateToLatest(store.unbounded, (pending) =>
      console.log(`applying ${pending.length} migration${pending.length === 1 ? '' : 's'}…`),
    );
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'the database is up to date');
  } finally {
    await store.close();
  }
}

async function token(config: Config, values: TokenOptions): Promise<void> {
  if (!values.sub) {
    throw new Error(`token: --sub <user id> is required\n\n${HELP.token}`);
  }
  const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl <= 0)) {
    throw new Error('token: --ttl must be a positive whole number of seconds');
  }
  console.log(
    await mintToken(config.jwt, {
      sub: values.sub,
      admin: values.admin ?? false,
      ...(values.tenant ? { tenant: values.tenant } : {}),
      ...(values.username ? { username: values.username } : {}),
      ...(values.name ? { name: values.name } : {}),
      ...(values.permission?.length ? { permissions: values.permission } : {}),
      ...(ttl ? { ttlSeconds: ttl } : {}),
    }),
  );
}

const SERVE_OPTIONS = { workers: { type: 'string' } } as const;

const TOKEN_OPTIONS = {
  sub: { type: 'string' },
  admin: { type: 'boolean' },
  tenant: { type: 'string' },
  username: { type: 'string' },
  name: { type: 'string' },
  permission: { type: 'string', multiple: true },
  ttl: { type: 'string' },
} as const;

type TokenOptions = ReturnType<typeof options<typeof TOKEN_OPTIONS>>['values'];

export async function run(argv: string[]): Promise<void> {
  const [first = 'serve', ...rest] = argv;
  if (first === 'help' || first === '--help' || first === '-h') {
    console.log(rest[0] && HELP[rest[0]] ? HELP[rest[0]] : USAGE);
    return;
  }
  const command = first.startsWith('-') ? 'serve' : first;
  const args = first.startsWith('-') ? argv : rest;
  if (!(command in HELP)) {
    throw new Error(`unknown command "${command}"\n\n${USAGE}`);
  }
  const parsed = options(
    command,
    args,
    command === 'token' ? TOKEN_OPTIONS : command === 'serve' ? SERVE_OPTIONS : {},
  );
  if (parsed.values.help) {
    console.log(HELP[command]);
    return;
  }
  const config = loadConfig();
  loaded = config;
  serving = command === 'serve';
  switch (command) {
    case 'serve':
      return serveCommand(config, (parsed.values as { workers?: string }).workers);
    case 'migrate':
      return migrate(config);
    case 'token':
      return token(config, parsed.values as TokenOptions);
    default:
      return (await import('./seed.ts')).seed(config);
  }
}

/** `parley serve`: one server process, or with --workers a primary that runs several (src/cli/workers.ts). */
async function serveCommand(config: Config, workersOption: string | undefined): Promise<void> {
  const workers = await import('./cli/workers.ts');
  if (workers.isWorker()) {
    return (await import('./main.ts')).serve(config);
  }
  const count = workers.parseWorkers(workersOption ?? process.env.PARLEY_WORKERS);
  if (count !== null) {
    const refusal = workers.workersRefusal(config);
    if (refusal) {
      throw new Error(refusal);
    }
  }
  await assertPortFree(config.host, config.port);
  if (count === null) {
    return (await import('./main.ts')).serve(config);
  }
  return workers.runPrimary(config, count);
}

/** Read once the command is known, for explaining a failure in terms of its settings. */
let loaded: Config | null = null;
let serving = false;

run(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`parley: configuration error: ${error.message}`);
  } else {
    const explained = loaded ? explainDatabaseError(error, loaded.database, process.env) : null;
    const message = explained ?? (error instanceof Error ? error.message : String(error));
    if (serving && loaded?.log.format === 'json') {
      // A server's last word, in the format its log collector reads.
      console.error(
        JSON.stringify({ level: 60, time: Date.now(), pid: process.pid, hostname: hostname(), msg: message }),
      );
    } else {
      console.error(`parley: ${message}`);
    }
  }
  process.exit(1);
});
