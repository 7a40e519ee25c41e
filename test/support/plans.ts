import { sql, type CompiledQuery, type Kysely } from 'kysely';
import type { Database } from '../../src/db/database.ts';

/** One node of PostgreSQL's `explain (format json)`, with what the plan tests look at. */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  /** With `explain (analyze)`: how often the node ran; 0 for a node never executed. */
  'Actual Loops'?: number;
  Plans?: PlanNode[];
}

/** A plan's nodes, depth first. */
export function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/**
 * The plan of a query with sequential scans priced out: what must hold is that an index path exists for every table
 * it reads (on test tables this small the planner would rightly prefer a sequential scan). `priced` prices out more
 * (`{ enable_nestloop: 'off' }`): a plan shape that must hold whatever the statistics say holds then too.
 */
export async function plan(
  db: Kysely<Database>,
  compiled: CompiledQuery,
  priced: Record<string, 'off'> = {},
): Promise<PlanNode[]> {
  const settings = { enable_seqscan: 'off', ...priced };
  return db.connection().execute(async (conn) => {
    for (const [name, value] of Object.entries(settings)) {
      await sql`select set_config(${name}, ${value}, false)`.execute(conn);
    }
    try {
      const result = await conn.executeQuery<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>({
        ...compiled,
        sql: `explain (format json) ${compiled.sql}`,
      });
      return nodes(result.rows[0]!['QUERY PLAN'][0].Plan);
    } finally {
      for (const name of Object.keys(settings)) {
        await sql.raw(`reset ${name}`).execute(conn);
      }
    }
  });
}
