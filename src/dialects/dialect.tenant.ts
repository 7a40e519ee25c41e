import type { Actor } from '../auth/actor.ts';
import type { Context } from '../context.ts';
import { provisionTenant } from '../tenants/tenant.service.ts';
import { systemActor } from './actors.ts';

/** A dialect without tokens that serves one tenant (Avito, DRF): where its operations run, and as whom. */
export interface TenantDialect {
  ctx: Context;
  tenantId: string;
  /** The dialect's own administrator in its tenant, for what it does on no user's behalf. */
  admin: Actor;
}

/** Opens a dialect's tenant, creating it on the first start. */
export async function openTenantDialect(
  ctx: Context,
  tenantId: string,
  adminName: string,
): Promise<TenantDialect> {
  await provisionTenant(ctx, tenantId);
  return { ctx, tenantId, admin: systemActor(tenantId, adminName) };
}
