import type { Context } from '../context.ts';
import { newId } from '../ids.ts';
import { deleteExpiredFailures, findFailure, insertFailure } from './failure.repository.ts';

/** How long a failed send is remembered: a day, as long as Celery keeps a task's result by default. */
export const FAILURE_KEEP_SECONDS = 24 * 60 * 60;
/** Expired failures forgotten per new one: enough to keep up, never a long delete on the path of a request. */
const EXPIRE_BATCH = 100;

export interface SendFailure {
  id: string;
  errorType: string;
  errorMessage: string;
  failedAt: string;
}

/**
 * Records a send that was accepted and could not be done (for dialects that answer a send with a task id and tell
 * its fate later), under a new id that looks like a message's; forgets expired ones on the way.
 */
export async function recordSendFailure(
  ctx: Context,
  tenantId: string,
  failure: { errorType: string; errorMessage: string },
): Promise<string> {
  const id = newId();
  await ctx.db.transaction().execute(async (trx) => {
    await deleteExpiredFailures(trx, FAILURE_KEEP_SECONDS, EXPIRE_BATCH);
    await insertFailure(trx, {
      tenant_id: tenantId,
      id,
      error_type: failure.errorType,
      error_message: failure.errorMessage,
    });
  });
  return id;
}

/** The failed send recorded under `id` in the tenant, or null (never recorded, or expired). */
export async function findSendFailure(
  ctx: Context,
  tenantId: string,
  id: string,
): Promise<SendFailure | null> {
  const row = await findFailure(ctx.db, tenantId, id, FAILURE_KEEP_SECONDS);
  return row
    ? {
        id: row.id,
        errorType: row.error_type,
        errorMessage: row.error_message,
        failedAt: row.failed_at.toISOString(),
      }
    : null;
}
