import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as core from './migrations/0001_core.ts';
import * as search from './migrations/0002_search.ts';
import * as realtime from './migrations/0003_realtime.ts';
import * as instabug from './migrations/0004_instabug.ts';
import * as sourceloop from './migrations/0005_sourceloop.ts';
import * as clientIdIndex from './migrations/0006_client_id_index.ts';
import * as searchConfigInBatch from './migrations/0007_search_config_in_batch.ts';
import * as unreadCounters from './migrations/0008_unread_counters.ts';
import * as sendBatchFunction from './migrations/0009_send_batch_function.ts';
import * as historyRevision from './migrations/0010_history_revision.ts';
import * as sendOutcomes from './migrations/0011_send_outcomes.ts';
import * as namesAndFailedSends from './migrations/0012_names_and_failed_sends.ts';
import * as sourceloopProperties from './migrations/0013_sourceloop_properties.ts';
import * as userDeletion from './migrations/0014_user_deletion.ts';
import * as messageTimeIndex from './migrations/0015_message_time_index.ts';
import * as propertiesRevision from './migrations/0016_properties_revision.ts';
import * as reactions from './migrations/0017_reactions.ts';
import * as chatChanges from './migrations/0018_chat_changes.ts';
import * as pins from './migrations/0019_pins.ts';
import * as mentions from './migrations/0020_mentions.ts';
import * as threads from './migrations/0021_threads.ts';
import * as moderation from './migrations/0022_moderation.ts';
import * as files from './migrations/0023_files.ts';
import * as webhooks from './migrations/0024_webhooks.ts';
import * as sendGenericPlan from './migrations/0025_send_generic_plan.ts';
import * as searchIndex from './migrations/0026_search_index.ts';

/** Migrations are listed here rather than read from disk, so they run the same from source, a build or a bundle. */
export const migrations: Record<string, Migration & { installs?: { sendFunction?: string } }> = {
  '0001_core': core,
  '0002_search': search,
  '0003_realtime': realtime,
  '0004_instabug': instabug,
  '0005_sourceloop': sourceloop,
  '0006_client_id_index': clientIdIndex,
  '0007_search_config_in_batch': searchConfigInBatch,
  '0008_unread_counters': unreadCounters,
  '0009_send_batch_function': sendBatchFunction,
  '0010_history_revision': historyRevision,
  '0011_send_outcomes': sendOutcomes,
  '0012_names_and_failed_sends': namesAndFailedSends,
  '0013_sourceloop_properties': sourceloopProperties,
  '0014_user_deletion': userDeletion,
  '0015_message_time_index': messageTimeIndex,
  '0016_properties_revision': propertiesRevision,
  '0017_reactions': reactions,
  '0018_chat_changes': chatChanges,
  '0019_pins': pins,
  '0020_mentions': mentions,
  '0021_threads': threads,
  '0022_moderation': moderation,
  '0023_files': files,
  '0024_webhooks': webhooks,
  '0025_send_generic_plan': sendGenericPlan,
  '0026_search_index': searchIndex,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export interface MigrationReport {
  applied: string[];
}

/** Applies every pending migration in order; several processes starting at once take Kysely's migration lock. */
export async function migrateToLatest<DB>(
  db: Kysely<DB>,
  onPending?: (names: string[]) => void,
): Promise<MigrationReport> {
  // Unless told the schema, Kysely takes its bookkeeping tables in ANY schema of the database for its own: with
  // several deployments (DB_SCHEMA) on one server, a new schema would never get them. They live in the current one.
  const current = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  const schema = current.rows[0]?.schema ?? undefined;
  const migrator = new Migrator({
    db: db as Kysely<unknown>,
    provider,
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  if (onPending) {
    // Said before the work, which takes seconds on a first start: silence that long looks like a hang.
    const pending = await pendingMigrations(db, schema ?? 'public');
    if (pending.length > 0) {
      onPending(pending);
    }
  }
  let { error, results } = await migrator.migrateToLatest();
  // Kysely looks for its bookkeeping tables by reading every schema of the database; another schema dropped at that
  // moment (another deployment's, a test's) fails that read before any migration ran. Try again, a few times.
  for (
    let attempt = 1;
    attempt <= 5 && error && otherSchemaVanished(error, schema) && !results?.length;
    attempt += 1
  ) {
    await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    ({ error, results } = await migrator.migrateToLatest());
  }
  const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  if (error) {
    const failed = (results ?? []).find((r) => r.status === 'Error');
    const cause = error instanceof Error ? error : new Error(String(error));
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${cause.message}`, { cause });
  }
  return { applied };
}

/**
 * The migrations not applied yet, from the bookkeeping table in the current schema. Not through Kysely's
 * `getMigrations()`: its introspection reads every schema of the database, and fails when another one is dropped
 * meanwhile (another deployment's, a test's).
 */
async function pendingMigrations<DB>(db: Kysely<DB>, schema: string): Promise<string[]> {
  const table = await sql<{ exists: boolean }>`
    select to_regclass(quote_ident(${schema}) || '.kysely_migration') is not null as exists`.execute(db);
  const applied = table.rows[0]?.exists
    ? new Set(
        (
          await sql<{ name: string }>`select name from ${sql.table(`${schema}.kysely_migration`)}`.execute(db)
        ).rows.map((r) => r.name),
      )
    : new Set<string>();
  return Object.keys(migrations).filter((name) => !applied.has(name));
}

/** PostgreSQL's "schema … does not exist" (3F000) about a schema other than this one. */
function otherSchemaVanished(error: unknown, schema: string | undefined): boolean {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : '';
  return code === '3F000' && (schema === undefined || !message.includes(`"${schema}"`));
}
