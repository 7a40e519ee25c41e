import type { preHandlerAsyncHookHandler } from 'fastify';
import { actorOf } from '../../auth/auth.hook.ts';
import type { Actor } from '../../auth/actor.ts';
import { forbidden } from '../../errors/codes.ts';

/** The numeric aliases SourceLoop accepts for its message and recipient permissions (permission-key.enum.ts). */
const ALIASES: Record<string, string> = {
  ViewMessage: '1',
  CreateMessage: '2',
  UpdateMessage: '3',
  DeleteMessage: '4',
  CreateMessageRecipient: '5',
  ViewMessageRecipient: '6',
  UpdateMessageRecipient: '7',
  DeleteMessageRecipient: '8',
};

/** Any-of, as loopback4-authorization decides: the token's `permissions` must name the permission or its alias. */
export function requirePermission(actor: Actor, permission: string): void {
  const accepted = [permission, ...(ALIASES[permission] ? [ALIASES[permission]] : [])];
  if (!actor.permissions.some((p) => accepted.includes(p))) {
    throw forbidden(`this token lacks the ${permission} permission`);
  }
}

/** A route's permission check, run after authentication and before the body is read. */
export function permit(permission: string): preHandlerAsyncHookHandler {
  return async (request) => {
    requirePermission(actorOf(request), permission);
  };
}
