import { sql, type Kysely } from 'kysely';

/**
 * Message search: full-text (stemmed words, phrases, OR, -exclusion) and partial words (trigrams), both case- and
 * accent-insensitive. Only adds: two columns, two indexes, text search configurations, two functions and a trigger.
 *
 * - Extensions (pg_trgm, unaccent) are per database and live in one schema, `public` unless a database already has
 *   them elsewhere; the objects below name that schema explicitly, so they work whatever the search_path.
 * - `parley_<language>` text search configurations (one per built-in one: english, german, simple, ...) run words
 *   through `unaccent` before the language's own dictionary, so "cafe" matches "Café" and ts_headline marks it.
 * - Each message row carries the configuration it is indexed with (`search_config`), set at insert from its tenant's
 *   `settings.searchLanguage` (default english): a generated column can only read its own row, and one column per
 *   language would multiply the index. `search_vector` is generated from it, so edits and deletes re-index at once.
 * - `parley_fold(text)` = lower(unaccent(text)), immutable as an index expression must be, for the trigram index.
 */

/** Serialises extension creation between deployments (schemas) of one database, whatever runs the migrations. */
const EXTENSION_LOCK = 0x7061726c6579; // "parley"

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** A SQL string literal, for text spliced into function bodies. */
function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function ident(name: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new Error(`unexpected identifier ${JSON.stringify(name)}`);
  }
  return `"${name}"`;
}

/** Creates the extension in `public` unless the database has it already; returns the schema it lives in. */
async function ensureExtension(db: Kysely<unknown>, name: 'pg_trgm' | 'unaccent'): Promise<string> {
  const found = async () =>
    (
      await sql<{ schema: string }>`
        select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace
         where e.extname = ${name}`.execute(db)
    ).rows[0]?.schema;
  const existing = await found();
  if (existing) {
    return existing;
  }
  await sql`create extension if not exists ${sql.raw(ident(name))} schema public`.execute(db);
  return (await found()) ?? 'public';
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`select pg_advisory_xact_lock(${EXTENSION_LOCK})`.execute(db);
  const trgm = ident(await ensureExtension(db, 'pg_trgm'));
  const unaccent = ident(await ensureExtension(db, 'unaccent'));
  const current = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  const schemaName = current.rows[0]?.schema;
  if (!schemaName) {
    throw new Error('no current schema to create the search objects in');
  }
  const schema = `"${schemaName.replace(/"/g, '""')}"`;

  // One accent-insensitive configuration per built-in one: the same dictionaries, with unaccent in front of the
  // dictionaries of the token types that can carry accents.
  const mappings = await sql<{ cfg: string; alias: string; dicts: string }>`
    select c.cfgname as cfg, t.alias, string_agg(quote_ident(d.dictname), ', ' order by m.mapseqno) as dicts
      from pg_ts_config c
      join pg_ts_config_map m on m.mapcfg = c.oid
      join pg_ts_dict d on d.oid = m.mapdict
      join ts_token_type('default') t on t.tokid = m.maptokentype
     where c.cfgnamespace = 'pg_catalog'::regnamespace and t.alias in ('word', 'hword', 'hword_part')
     group by c.cfgname, t.alias
     order by c.cfgname, t.alias`.execute(db);
  const configs = new Map<string, { alias: string; dicts: string }[]>();
  for (const row of mappings.rows) {
    configs.set(row.cfg, [...(configs.get(row.cfg) ?? []), row]);
  }
  for (const [cfg, maps] of configs) {
    const name = `${schema}.${ident(`parley_${cfg}`)}`;
    await sql`create text search configuration ${sql.raw(name)} (copy = pg_catalog.${sql.raw(ident(cfg))})`.execute(
      db,
    );
    for (const { alias, dicts } of maps) {
      await sql`alter text search configuration ${sql.raw(name)}
                  alter mapping for ${sql.raw(ident(alias))} with ${sql.raw(`${unaccent}.unaccent`)}, ${sql.raw(dicts)}`.execute(
        db,
      );
    }
  }

  // lower(unaccent(text)), immutable so that it can be indexed: the unaccent rules do not change under a database.
  await sql`
    create function ${sql.raw(schema)}.parley_fold(value text) returns text
      language sql immutable strict parallel safe
      as ${sql.lit(`select lower(${unaccent}.unaccent(${literal(`${unaccent}.unaccent`)}::regdictionary, value))`)}`.execute(
    db,
  );

  // A tenant's search configuration: parley_<settings.searchLanguage> if there is one, else parley_english.
  await sql`
    create function ${sql.raw(schema)}.parley_search_config(tenant text) returns regconfig
      language sql stable parallel safe
      as ${sql.lit(`
        select coalesce(
          (select c.oid::regconfig
             from ${schema}.tenants t
             join pg_ts_config c
               on c.cfgname = 'parley_' || lower(t.settings ->> 'searchLanguage')
              and c.cfgnamespace = ${literal(schema)}::regnamespace
            where t.id = tenant),
          ${literal(`${schema}.parley_english`)}::regconfig)`)}`.execute(db);

  await sql`
    alter table messages
      add column search_config regconfig not null default ${sql.raw(literal(`${schema}.parley_english`))}::regconfig`.execute(
    db,
  );
  // Messages written before this migration, in tenants that chose another language.
  await sql`
    update messages m set search_config = x.config
      from (select id, ${sql.raw(schema)}.parley_search_config(tenant_id) as config from chats) x
     where x.id = m.chat_id and x.config <> m.search_config`.execute(db);
  await sql`
    alter table messages
      add column search_vector tsvector
      generated always as (to_tsvector(search_config, coalesce(text, ''))) stored`.execute(db);

  // New messages take their tenant's configuration, whichever statement inserts them.
  await sql`
    create function ${sql.raw(schema)}.parley_messages_search_config() returns trigger
      language plpgsql
      as ${sql.lit(`
        begin
          new.search_config := ${schema}.parley_search_config(
            (select c.tenant_id from ${schema}.chats c where c.id = new.chat_id));
          return new;
        end`)}`.execute(db);
  await sql`
    create trigger messages_search_config before insert on messages
      for each row execute function ${sql.raw(schema)}.parley_messages_search_config()`.execute(db);

  await sql`create index messages_search_idx on messages using gin (search_vector)`.execute(db);
  await sql`
    create index messages_text_trgm_idx on messages
      using gin (${sql.raw(schema)}.parley_fold(text) ${sql.raw(trgm)}.gin_trgm_ops)
      where deleted_at is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists messages_text_trgm_idx`.execute(db);
  await sql`drop index if exists messages_search_idx`.execute(db);
  await sql`drop trigger if exists messages_search_config on messages`.execute(db);
  await sql`drop function if exists parley_messages_search_config()`.execute(db);
  await sql`alter table messages drop column if exists search_vector`.execute(db);
  await sql`alter table messages drop column if exists search_config`.execute(db);
  await sql`drop function if exists parley_search_config(text)`.execute(db);
  await sql`drop function if exists parley_fold(text)`.execute(db);
  const configs = await sql<{ name: string }>`
    select cfgname as name from pg_ts_config
     where cfgnamespace = current_schema()::regnamespace and cfgname like 'parley\\_%'`.execute(db);
  for (const { name } of configs.rows) {
    await sql`drop text search configuration if exists ${sql.raw(ident(name))}`.execute(db);
  }
  // The extensions stay: other schemas of the database may use them.
}
