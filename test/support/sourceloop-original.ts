import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/**
 * SourceLoop's own chat service (`@sourceloop/chat-service`, a devDependency pinned to the version the dialect
 * imitates), booted the way its acceptance tests boot it: a LoopBack application that mounts the package's
 * component (its default sequence, bearer verifier and authorisation) on LoopBack's memory connector, or, for the
 * benchmark, as it is deployed: on PostgreSQL through LoopBack's PostgreSQL connector (a dependency of the package),
 * in tables made by the package's own migration. Nothing here is Parley's: the differential tests and the benchmark
 * send the same requests to it and to Parley.
 *
 * Its bearer verifier reads `JWT_SECRET` and `JWT_ISSUER` from the environment when a request arrives, so they are
 * set on this process (HS256, as Parley's tokens); a token minted for Parley then works on both, given the claims
 * LoopBack reads: `id` (the user, what `createdBy` records) and `permissions`.
 */

export interface SourceLoopOriginal {
  /** `http://127.0.0.1:<port>`: the package mounts its routes at the root. */
  url: string;
  stop(): Promise<void>;
}

export interface SourceLoopOriginalOptions {
  /** The HS256 secret and issuer tokens are signed with. */
  secret: string;
  issuer: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /**
   * PostgreSQL instead of the memory connector: the package's migration (`migrations/pg`) is run into `schema` (its
   * `main`; its audit log's `logs` becomes `<schema>_logs`), which must not exist yet; `dropSourceLoopSchemas`
   * removes both.
   */
  database?: { url: string; schema: string };
}

/** The package's PostgreSQL migration, with its schemas `main` and `logs` renamed to `schema` and `<schema>_logs`. */
function migrationSql(schema: string): string {
  const main = createRequire(import.meta.url).resolve('@sourceloop/chat-service');
  const root = main.slice(0, main.lastIndexOf(`${path.sep}dist${path.sep}`));
  const dir = path.join(root, 'migrations', 'pg', 'migrations', 'sqls');
  const [file] = readdirSync(dir).filter((name) => name.endsWith('-up.sql'));
  if (!file || !/^[a-z_][a-z0-9_]*$/.test(schema)) {
    throw new Error(`no migration of the package, or a schema name to quote: ${schema}`);
  }
  return readFileSync(path.join(dir, file), 'utf8')
    .replace(/\bmain\b/g, schema)
    .replace(/\blogs\b/g, `${schema}_logs`);
}

/** Drops what `database` made (the schema and its audit log's). */
export async function dropSourceLoopSchemas(database: { url: string; schema: string }): Promise<void> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${database.schema}" cascade`);
    await client.query(`drop schema if exists "${database.schema}_logs" cascade`);
  } finally {
    await client.end();
  }
}

/** The package's version, to name the original in reports (the bench's row). */
export function sourceLoopOriginalVersion(): string {
  const main = createRequire(import.meta.url).resolve('@sourceloop/chat-service');
  const file = path.join(main.slice(0, main.lastIndexOf(`${path.sep}dist${path.sep}`)), 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** A LoopBack model class, as far as its id property. */
interface ModelClass {
  definition: { properties: Record<string, Record<string, unknown> | undefined> };
}

const quiet = () => undefined;
const SILENT = { log: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet };

interface LoopBackApp {
  bind(key: string): { to(value: unknown): void; toProvider(provider: unknown): void };
  component(component: unknown): void;
  sequence(sequence: unknown): void;
  dataSource(dataSource: unknown): void;
  boot(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  restServer: { url?: string };
  projectRoot: string;
}
type LoopBackAppClass = new (config: unknown) => LoopBackApp;

/**
 * Starts the original on 127.0.0.1; its URL and how to stop it. Takes a few seconds, most of them loading LoopBack's
 * modules (the first call in a process); sets JWT_SECRET and JWT_ISSUER on this process.
 */
export async function startSourceLoopOriginal(
  options: SourceLoopOriginalOptions,
): Promise<SourceLoopOriginal> {
  process.env.JWT_SECRET = options.secret;
  process.env.JWT_ISSUER = options.issuer;
  // The package's modules are CommonJS and resolved from where it is installed (its LoopBack, not another copy).
  const require = createRequire(createRequire(import.meta.url).resolve('@sourceloop/chat-service'));
  const { BootMixin } = require('@loopback/boot') as {
    BootMixin: (base: unknown) => LoopBackAppClass;
  };
  const { RepositoryMixin, juggler } = require('@loopback/repository') as {
    RepositoryMixin: (base: unknown) => unknown;
    juggler: { DataSource: new (settings: object) => unknown };
  };
  const { RestApplication } = require('@loopback/rest') as { RestApplication: unknown };
  const models = require('@sourceloop/chat-service') as {
    ChatServiceComponent: unknown;
    ChatServiceBindings: { Config: string };
  } & Record<'Message' | 'MessageRecipient' | 'AttachmentFile', ModelClass>;
  const { ChatServiceComponent, ChatServiceBindings } = models;
  // On PostgreSQL the package's tables generate UUIDs; the memory connector would count 1, 2, ... per model, and
  // the ids of different models would be the same strings. Before any repository is built, so each uses it.
  for (const name of options.database ? [] : (['Message', 'MessageRecipient', 'AttachmentFile'] as const)) {
    const id = models[name].definition.properties.id;
    if (id) {
      Object.assign(id, { generated: false, defaultFn: 'uuidv4' });
    }
  }
  const { LOGGER, ServiceSequence, BearerVerifierBindings, BearerVerifierComponent, BearerVerifierType } =
    require('@sourceloop/core') as {
      LOGGER: { LOGGER_INJECT: string };
      ServiceSequence: unknown;
      BearerVerifierBindings: { Config: string };
      BearerVerifierComponent: unknown;
      BearerVerifierType: { service: number };
    };
  const { AuthenticationComponent } = require('loopback4-authentication') as {
    AuthenticationComponent: unknown;
  };
  const { AuthorizationBindings, AuthorizationComponent } = require('loopback4-authorization') as {
    AuthorizationBindings: { CONFIG: string };
    AuthorizationComponent: unknown;
  };

  const Application = BootMixin(RepositoryMixin(RestApplication));
  const app = new Application({
    rest: { host: '127.0.0.1', port: options.port ?? 0, expressSettings: { 'x-powered-by': false } },
  });
  // The application's own conventions find nothing here; the component's booters load its models and controllers.
  app.projectRoot = path.dirname(fileURLToPath(import.meta.url));
  // The component's own sequence set-up (its `setupSequence`), with the one setting a service that verifies tokens
  // with a shared secret (HS256, as Parley's) passes: `useSymmetricEncryption`; without it the verifier wants RS256
  // keys from an auth database.
  app.bind(ChatServiceBindings.Config).to({ useCustomSequence: true });
  app.component(ChatServiceComponent);
  app.sequence(ServiceSequence);
  app.component(AuthenticationComponent);
  app.bind(BearerVerifierBindings.Config).to({
    authServiceUrl: '',
    type: BearerVerifierType.service,
    useSymmetricEncryption: true,
  });
  app.component(BearerVerifierComponent);
  app.bind(AuthorizationBindings.CONFIG).to({ allowAlwaysPaths: ['/explorer'] });
  app.component(AuthorizationComponent);
  // Its request log says nothing the tests need (LoopBack still logs a 500 and its stack).
  app.bind(LOGGER.LOGGER_INJECT).to(SILENT);
  // The repositories inject `datasources.chatDb`; the acceptance tests use the memory connector.
  if (options.database) {
    const { url, schema } = options.database;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(migrationSql(schema));
    } finally {
      await client.end();
    }
    const connector = require('loopback-connector-postgresql') as unknown;
    app.dataSource(new juggler.DataSource({ name: 'chatDb', connector, url, schema }));
  } else {
    app.dataSource(new juggler.DataSource({ name: 'chatDb', connector: 'memory' }));
  }
  await app.boot();
  await app.start();
  const url = app.restServer.url;
  if (!url) {
    throw new Error('the SourceLoop original started without a URL');
  }
  return { url: url.replace(/\/$/, ''), stop: () => app.stop() };
}
