// parley-chat-client: a typed client for Parley's native API and its real-time stream, for browsers and Node.
export { ParleyClient, ParleyError, type ClientOptions, type FetchLike } from './api.js';
export type { UploadOptions, UploadProgress } from './files.js';
export {
  backoffDelay,
  ParleyStream,
  type BackoffOptions,
  type DisconnectEvent,
  type StreamEventMap,
  type StreamOptions,
  type StreamState,
} from './stream.js';
export type { WebSocketConstructorLike, WebSocketLike } from './socket.js';
export type * from './types.js';
