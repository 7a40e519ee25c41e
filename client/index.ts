// parley/client: a typed client for Parley's native API and its real-time stream, for browsers and Node.
export { ParleyClient, ParleyError, type ClientOptions, type FetchLike } from './api.ts';
export {
  backoffDelay,
  ParleyStream,
  type BackoffOptions,
  type DisconnectEvent,
  type StreamEventMap,
  type StreamOptions,
  type StreamState,
  type WebSocketConstructorLike,
  type WebSocketLike,
} from './stream.ts';
export type * from './types.ts';
