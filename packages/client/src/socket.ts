// Which WebSocket the stream opens: the platform's, one passed in, or on Node 20 the `ws` package.

/**
 * The part of a WebSocket this client uses: a browser's `WebSocket`, Node 22's global one, or the `ws` package's
 * all fit. Handler parameters are `never` so that each implementation's own event types are accepted.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
}

export type WebSocketConstructorLike = new (url: string) => WebSocketLike;

export interface Connector {
  open(url: string, token: string): WebSocketLike;
  /** The token goes in the URL: browsers cannot set headers on a WebSocket. */
  tokenInQuery: boolean;
}

/** The `ws` package's constructor, as far as this client uses it. */
type NodeWebSocket = new (url: string, options: { headers: Record<string, string> }) => WebSocketLike;

/**
 * Node 20's fallback, named through a variable: bundlers for the browser (where it is never reached) then leave it
 * alone instead of looking for a package this one does not depend on.
 */
const WS_PACKAGE = 'ws';

export async function connector(option: WebSocketConstructorLike | undefined): Promise<Connector> {
  const global = (globalThis as { WebSocket?: WebSocketConstructorLike }).WebSocket;
  const Socket = option ?? global;
  if (Socket) {
    return { open: (url) => new Socket(url), tokenInQuery: true };
  }
  // Node 20 has no global WebSocket (unless run with --experimental-websocket): the `ws` package, if installed.
  let ws: { WebSocket: NodeWebSocket };
  try {
    ws = (await import(/* webpackIgnore: true */ /* @vite-ignore */ WS_PACKAGE)) as {
      WebSocket: NodeWebSocket;
    };
  } catch {
    throw new Error('no WebSocket here: install the `ws` package, or pass `WebSocket` in the stream options');
  }
  const NodeSocket = ws.WebSocket;
  return {
    open: (url, token) => new NodeSocket(url, { headers: { authorization: `Bearer ${token}` } }),
    tokenInQuery: false,
  };
}
