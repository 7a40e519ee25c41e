import type { TenantRow } from './tenant.table.ts';

/** A tenant addressed by its token (an Instabug application); the token is a capability, shown to its holder. */
export interface TenantView {
  id: string;
  name: string;
  token: string | null;
  createdAt: string;
  /** The last rename, else the creation time. */
  updatedAt: string;
}

export function presentTenant(row: TenantRow): TenantView {
  return {
    id: row.id,
    name: row.name,
    token: row.token,
    createdAt: row.created_at.toISOString(),
    updatedAt: (row.updated_at ?? row.created_at).toISOString(),
  };
}
