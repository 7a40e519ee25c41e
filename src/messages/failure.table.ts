import type { Generated, Selectable } from 'kysely';

/** A send that was accepted under an id and then failed; kept for a day (`failure.service.ts`). */
export interface FailedSendTable {
  tenant_id: string;
  id: string;
  /** The kind of failure, in the words of the client's original system (`PermissionDenied`, ...). */
  error_type: string;
  error_message: string;
  failed_at: Generated<Date>;
}

export type FailedSendRow = Selectable<FailedSendTable>;
