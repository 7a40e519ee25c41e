/**
 * The events kernel: how a feature describes what happened once its transaction has committed. Each feature declares
 * its own events (`<feature>.events.ts`: event name → payload schema) and publishes them through `ctx.events`; the real-time
 * layer (src/realtime/protocol.ts) composes those maps into the stream's contract and delivers them. Nothing here
 * knows any feature.
 */

import type { Static, TSchema } from 'typebox';

/** Who receives an event: the members of a chat, one user's connections, or the whole tenant. */
export type Audience = { chatId: string } | { userId: string } | { tenant: true };

/**
 * Routing beside the payload: `memberIds` tells every process who is in a chat it has never seen (chat.created),
 * and `seqAt` and `revAt` are the chat's last seq and last change rev when a member was added, read under the chat's
 * row lock, so their stream starts exactly there.
 */
export interface Routing {
  memberIds?: string[];
  seqAt?: number;
  revAt?: number;
}

/**
 * What travels on the bus between processes. `payload` is what clients see; the rest is routing. `publishedAt`
 * (milliseconds since the epoch, with a fraction) is stamped by the bus when the event is published, for the bus lag
 * metric; like the routing fields it never reaches clients.
 */
export interface Envelope<K extends string = string, P = unknown> extends Routing {
  type: K;
  tenantId: string;
  audience: Audience;
  payload: P;
  publishedAt?: number;
}

/** Every envelope an event map allows: one member of the union per event name. */
export type EventOf<M> = { [K in keyof M & string]: Envelope<K, M[K]> }[keyof M & string];

/** Where services hand events once their transaction has committed. */
export interface EventSink {
  publish(event: Envelope): void;
}

/**
 * An event map from the schemas of its payloads (`{ name: schema }` → `{ name: payload }`): each feature declares its
 * events as schemas, so the types the code uses and the contract the stream publishes (/asyncapi.json) are one.
 */
export type PayloadsOf<S extends Record<string, TSchema>> = { [K in keyof S]: Static<S[K]> };

/** A builder of one feature's events, typed by its map: `const chatEvent = eventsOf<ChatEvents>()`. */
export function eventsOf<M>() {
  return <K extends keyof M & string>(
    type: K,
    tenantId: string,
    audience: Audience,
    payload: M[K],
    routing: Routing = {},
  ): Envelope<K, M[K]> => ({ type, tenantId, audience, payload, ...routing });
}
