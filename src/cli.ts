import { parseArgs } from 'node:util';
import { mintToken } from './auth/token.ts';
import { ConfigError } from './env.ts';
import { loadConfig, type Config } from './config.ts';
import { openStore, type Store } from './db/connect.ts';
import { DataDirInUseError } from './db/datadir-lock.ts';
import { migrateToLatest } from './db/migrate.ts';
import { serve } from './main.ts';
import { seed } from './seed.ts';

const USAGE = `Usage: parley <command> [options]

Commands:
  serve                      start the server (the default)
  migrate                    apply pending database migrations and exit
  token --sub <id> [--admin] [--tenant <id>] [--username <name>] [--ttl <seconds>]
                             print a JWT signed with the configured secret, for trying the API
  seed                       create demo users (alice, bob, carol) and a group chat, and print their tokens
                             (through the running server's API when one has the embedded database open)

Configuration comes from the environment: see docs/configuration.md.`;

async function migrate(config: Config): Promise<void> {
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
    const { applied } = await migrateToLatest(store.unbounded);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'the database is up to date');
  } finally {
    await store.close();
  }
}

async function token(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      sub: { type: 'string' },
      admin: { type: 'boolean', default: false },
      tenant: { type: 'string' },
      username: { type: 'string' },
      ttl: { type: 'string' },
    },
  });
  if (!values.sub) {
    throw new Error('token: --sub <user id> is required');
  }
  const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl <= 0)) {
    throw new Error('token: --ttl must be a positive number of seconds');
  }
  console.log(
    await mintToken(config.jwt, {
      sub: values.sub,
      admin: values.admin,
      ...(values.tenant ? { tenant: values.tenant } : {}),
      ...(values.username ? { username: values.username } : {}),
      ...(ttl ? { ttlSeconds: ttl } : {}),
    }),
  );
}

export async function run(argv: string[]): Promise<void> {
  const [command = 'serve', ...rest] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return;
  }
  const config = loadConfig();
  switch (command) {
    case 'serve':
      return serve(config);
    case 'migrate':
      return migrate(config);
    case 'token':
      return token(config, rest);
    case 'seed':
      return seed(config);
    default:
      throw new Error(`unknown command "${command}"\n\n${USAGE}`);
  }
}

run(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`parley: configuration error: ${error.message}`);
  } else {
    console.error(`parley: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
});
