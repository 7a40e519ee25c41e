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
 * it reads (on test tables this small the planner would rightly prefer a sequential scan).
 */
export async function plan(db: Kysely<Database>, compiled: CompiledQuery): Promise<PlanNode[]> {
  return db.connection().execute(async (conn) => {
    await sql`set enable_seqscan = off`.execute(conn);
    try {
      const result = await conn.executeQuery<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>({
        ...compiled,
        sql: `explain (format json) ${compiled.sql}`,
      });
      return nodes(result.rows[0]!['QUERY PLAN'][0].Plan);
    } finally {
      await sql`reset enable_seqscan`.execute(conn);
    }
  });
}
