import { randomBytes } from 'node:crypto';
import type { Context } from '../context.ts';
import type { Db } from '../db/database.ts';
import { invalid, notFound } from '../errors/codes.ts';
import { newId } from '../ids.ts';
import { Memo } from '../memo.ts';
import { presentTenant, type TenantView } from './tenant.presenter.ts';
import {
  ensureTenant,
  findTenantByToken,
  insertTenant,
  listTokenTenants as listTokenTenantRows,
  listTokenTenantsAfter as listTokenTenantRowsAfter,
  renameTenant as renameTenantRow,
} from './tenant.repository.ts';
import type { TenantRow, TenantSettings } from './tenant.table.ts';

export const MAX_TENANT_NAME = 200;

/** 192 random bits, URL-safe: a token is a capability, so it must not be guessable. */
export function newTenantToken(): string {
  return randomBytes(24).toString('base64url');
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '') {
    throw invalid('name: must not be blank');
  }
  if ([...trimmed].length > MAX_TENANT_NAME) {
    throw invalid(`name: must be at most ${MAX_TENANT_NAME} characters`);
  }
  return trimmed;
}

export interface NewTokenTenant {
  name: string;
  /** The tenant id is `<idPrefix>-<uuid>`: internal, never needed by whoever holds the token. */
  idPrefix: string;
  settings: TenantSettings;
}

/** Creates the tenant `tenantId` unless it exists: on first sight of its id in a token, or a dialect's own on start. */
export async function provisionTenant(ctx: Context, tenantId: string): Promise<void> {
  await ensureTenant(ctx.db, tenantId);
}

/**
 * A new tenant with an unguessable token, in the caller's transaction (the users feature creates its first users in
 * the same one: `createTokenTenant` in src/users/user.service.ts).
 */
export async function insertTokenTenant(db: Db, input: NewTokenTenant): Promise<TenantRow> {
  return insertTenant(db, {
    id: `${input.idPrefix}-${newId()}`,
    name: checkName(input.name),
    token: newTenantToken(),
    settings: input.settings,
  });
}

/** The tenant holding `token`, or 404 (an unknown token and a malformed one answer alike). */
export async function getTokenTenant(ctx: Context, token: string): Promise<TenantView> {
  const row = token === '' ? undefined : await findTenantByToken(ctx.db, token);
  if (!row) {
    throw notFound('no application with this token');
  }
  return presentTenant(row);
}

/** A tenant's token never changes (nor is a tenant with one removed). */
const tokenTenants = new Memo<string>();

/** The id of the tenant holding `token`, remembered once read, or null: for dialects that take a token per request. */
export async function tenantIdByToken(ctx: Context, token: string): Promise<string | null> {
  if (token === '') {
    return null;
  }
  const id = await tokenTenants.get(ctx.db, token, async () => (await findTenantByToken(ctx.db, token))?.id);
  return id ?? null;
}

export async function listTokenTenants(
  ctx: Context,
  page: { offset: number; limit: number },
): Promise<TenantView[]> {
  return (await listTokenTenantRows(ctx.db, page)).map(presentTenant);
}

/** The tenants with a token after the one with id `afterId` (null: from the first), in creation order: keyset pages. */
export async function listTokenTenantsAfter(
  ctx: Context,
  afterId: string | null,
  limit: number,
): Promise<TenantView[]> {
  return (await listTokenTenantRowsAfter(ctx.db, afterId, limit)).map(presentTenant);
}

export async function renameTenant(ctx: Context, tenantId: string, name: string): Promise<TenantView> {
  return presentTenant(await renameTenantRow(ctx.db, tenantId, checkName(name)));
}
