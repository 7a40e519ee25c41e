import { sql, type Kysely } from 'kysely';
import { quotedCurrentSchema } from './schema.ts';

/**
 * The per-row trigger that gave each message its tenant's search configuration cost the send path almost half its
 * throughput (two lookups and a PL/pgSQL call per row). The batched send now computes the configuration once per
 * tenant and writes it; the column loses its default and the trigger fires only for an insert that leaves it out
 * (`when (new.search_config is null)`, checked without calling the function), so every other writer stays correct.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table messages alter column search_config drop default`.execute(db);
  const fn = await triggerFunction(db);
  await sql`drop trigger messages_search_config on messages`.execute(db);
  await sql`
    create trigger messages_search_config before insert on messages
      for each row when (new.search_config is null) execute function ${sql.raw(fn)}()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const fn = await triggerFunction(db);
  await sql`drop trigger messages_search_config on messages`.execute(db);
  await sql`
    create trigger messages_search_config before insert on messages
      for each row execute function ${sql.raw(fn)}()`.execute(db);
  const name = `${await quotedCurrentSchema(db)}.parley_english`;
  await sql`alter table messages alter column search_config set default ${sql.lit(name)}::regconfig`.execute(
    db,
  );
}

/** The trigger's function, schema-qualified as migration 0002 created it. */
async function triggerFunction(db: Kysely<unknown>): Promise<string> {
  const result = await sql<{ fn: string }>`
    select t.tgfoid::regproc::text as fn from pg_trigger t
     where t.tgrelid = 'messages'::regclass and t.tgname = 'messages_search_config'`.execute(db);
  const fn = result.rows[0]?.fn;
  if (!fn) {
    throw new Error('trigger messages_search_config not found');
  }
  return fn;
}
