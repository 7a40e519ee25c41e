import type { Actor } from '../auth/actor.ts';

/**
 * What a dialect without tokens does on no user's behalf (creating users, reading rooms): a tenant administrator
 * that is never stored as a user.
 */
export function systemActor(tenantId: string, name: string): Actor {
  return {
    tenantId,
    userId: name,
    isAdmin: true,
    permissions: [],
    profile: { username: null, displayName: null },
  };
}

/** The user a dialect request names (Avito's body, DRF's `?user_id=` or `from`), acting as a plain member. */
export function userActor(tenantId: string, userId: string): Actor {
  return {
    tenantId,
    userId,
    isAdmin: false,
    permissions: [],
    profile: { username: null, displayName: null },
  };
}
