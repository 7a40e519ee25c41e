/**
 * What features built on tenants (users, chats) do inside their own transactions: create a tenant on first sight of
 * its id, read its settings. No module outside the tenants feature reaches its repositories.
 */
export { ensureTenant, findTenant } from './tenant.repository.ts';
