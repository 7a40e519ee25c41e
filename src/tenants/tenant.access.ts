/**
 * What features built on tenants (chats) do inside their own transactions: read a tenant's settings. No module outside
 * the tenants feature reaches its repositories.
 */
export { findTenant } from './tenant.repository.ts';
