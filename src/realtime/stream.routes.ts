import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, onRequestAsyncHookHandler } from 'fastify';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { actorOf } from '../auth/auth.hook.ts';
import { AppError } from '../errors/codes.ts';
import { isDatabaseUnavailable } from '../errors/database.ts';
import type { Metrics } from '../metrics/metrics.registry.ts';
import { FrameLimiter, type FrameVerdict } from '../limits/frame.limiter.ts';
import { Connection, type ResumeCursors, type Transport } from './connection.ts';
import { SocketWrites } from './ws-writes.ts';
import { FrameError, parseResume, resumeFromRequest } from './resume.ts';
import type { Gateway } from './gateway.ts';
import {
  CLOSE_GOING_AWAY,
  CLOSE_INTERNAL_ERROR,
  CLOSE_LIMIT_EXCEEDED,
  CLOSE_POLICY,
  CLOSE_RATE_LIMITED,
  CLOSE_TRY_AGAIN_LATER,
  MAX_FRAME_BYTES,
} from './protocol.ts';
import { eventsDocs, websocketDocs } from './stream.openapi.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * A stream, open for as long as its client stays: its database work is not one request's, and each of its
     * database operations gets a deadline of its own instead (plugin.ts).
     */
    stream?: boolean;
  }
}

/** How long a client has at shutdown to answer the "going away" close before its socket is cut. */
const CLOSE_GRACE_MS = 2000;

export interface StreamOptions {
  gateway: Gateway;
  /** Bearer token from the header, or `?access_token=` for browsers. */
  authenticate: onRequestAsyncHookHandler;
  /** Told how to count the open connections, by transport. */
  metrics?: Metrics | null;
}

/** The headers of an SSE stream (and of a HEAD of it). */
const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

function errorFrame(message: string, code = 'invalid_request'): string {
  return JSON.stringify({ type: 'error', error: { code, message } });
}

/**
 * WebSocket upgrades, for the whole plugin and before any other hook: a hook that refuses an upgrade (a rate limit,
 * a JSON:API negotiation, authentication) then answers over a socket the upgrade plugin knows about and closes.
 */
export async function registerWebSocket(app: FastifyInstance): Promise<void> {
  await app.register(websocket, {
    options: { maxPayload: MAX_FRAME_BYTES },
    // Shutdown: gateway.shutdown() says "going away" to every client; nothing more to do here.
    preClose: async () => {},
  });
}

export async function streamRoutes(
  app: FastifyInstance,
  { gateway, authenticate, metrics }: StreamOptions,
): Promise<void> {
  const sockets = new Set<WebSocket>();
  const alive = new WeakSet<WebSocket>();
  const sse = new Set<FastifyReply>();
  const writes = new SocketWrites();
  metrics?.countStreams(() => ({ ws: sockets.size, sse: sse.size }));

  const heartbeat = setInterval(() => {
    for (const socket of sockets) {
      if (!alive.has(socket)) {
        socket.terminate();
        continue;
      }
      alive.delete(socket);
      socket.ping();
    }
    for (const reply of sse) {
      reply.raw.write(': ping\n\n');
    }
  }, gateway.limits.heartbeatMs);
  heartbeat.unref();

  app.addHook('preClose', async () => {
    clearInterval(heartbeat);
    await gateway.shutdown();
    // Clients answer the 1001 and their sockets close. One that does not (gone, or not reading) would hold the
    // server's close open until the WebSocket library gives up on it (30 s): after a grace period it is cut off.
    const stragglers = setTimeout(() => {
      for (const socket of sockets) {
        socket.terminate();
      }
      for (const reply of sse) {
        reply.raw.destroy();
      }
    }, CLOSE_GRACE_MS);
    stragglers.unref();
  });

  app.route({
    method: 'GET',
    url: '/stream',
    onRequest: authenticate,
    config: { stream: true, swaggerTransform: ({ url }) => ({ schema: websocketDocs, url }) },
    // A plain HTTP request (no Upgrade) gets the standard error body, not an empty 404.
    handler: async (_request, reply) => {
      void reply.header('upgrade', 'websocket');
      throw new AppError(
        'upgrade_required',
        'this is a WebSocket endpoint: connect with Upgrade: websocket, or read GET /v1/events',
      );
    },
    wsHandler: (socket, request) => {
      let resume: ResumeCursors | null;
      try {
        resume = resumeFromRequest(request);
      } catch (error) {
        socket.close(CLOSE_POLICY, (error as Error).message.slice(0, 120));
        return;
      }
      // The upgraded TCP (or TLS) socket; an injected WebSocket (`injectWS`) has none.
      const tcp = request.raw.socket as Socket | undefined;
      const connection = new Connection(actorOf(request), {
        send: (data) => {
          if (tcp) {
            writes.hold(tcp);
          }
          socket.send(writes.bytes(data), { binary: false });
        },
        bufferedAmount: () => socket.bufferedAmount,
        close: (code, reason) => socket.close(code, reason),
      });
      try {
        gateway.admit(connection);
      } catch (error) {
        if (!(error instanceof AppError)) {
          throw error;
        }
        // A browser cannot read the HTTP status of a refused upgrade: the socket opens, says why, and closes.
        socket.send(errorFrame(error.message, error.code));
        socket.close(CLOSE_LIMIT_EXCEEDED, 'limit exceeded: sockets_per_user');
        return;
      }
      sockets.add(socket);
      alive.add(socket);
      socket.on('pong', () => alive.add(socket));
      socket.on('close', () => {
        sockets.delete(socket);
        gateway.close(connection);
      });
      const frames = gateway.limits.frames ? new FrameLimiter(gateway.limits.frames) : null;

      if (!resume) {
        connection.hold(gateway.limits.resumeGraceMs, () => gateway.release(connection));
      }
      const opened = gateway.open(connection, resume).catch((error: unknown) => {
        gateway.logFailure(error, 'error', 'could not open a stream');
        if (isDatabaseUnavailable(error)) {
          socket.close(CLOSE_TRY_AGAIN_LATER, 'database unavailable: reconnect and resume shortly');
        } else {
          socket.close(CLOSE_INTERNAL_ERROR, 'internal error');
        }
      });

      socket.on('message', (raw: Buffer, isBinary: boolean) => {
        // Counted as they arrive, valid or not, before any work is done for them.
        const verdict = frames ? frames.check() : 'pass';
        if (verdict !== 'pass') {
          refuseFrame(verdict);
          return;
        }
        void opened.then(() => handleFrame(connection, raw, isBinary));
      });

      function refuseFrame(verdict: FrameVerdict): void {
        if (socket.readyState !== socket.OPEN || !frames) {
          return;
        }
        const { rate, burst } = frames.limit;
        if (verdict === 'warn') {
          socket.send(
            errorFrame(
              `frames_per_socket: at most ${rate} frames a second (${burst} at once); frames over it are dropped, ` +
                `and a client that keeps on is disconnected`,
              'rate_limited',
            ),
          );
        }
        if (verdict === 'close') {
          request.log.info(
            { userId: connection.actor.userId },
            'closing a socket that sends too many frames',
          );
          socket.close(CLOSE_RATE_LIMITED, 'rate limited: frames_per_socket');
        }
      }

      function handleFrame(conn: Connection, raw: Buffer, isBinary: boolean): void {
        if (conn.closed) {
          return;
        }
        let frame: { type?: unknown; chats?: unknown; changes?: unknown; chatId?: unknown };
        try {
          if (isBinary) {
            throw new FrameError('frames must be JSON text');
          }
          frame = JSON.parse(raw.toString('utf8')) as typeof frame;
          if (typeof frame !== 'object' || frame === null) {
            throw new FrameError('a frame must be a JSON object with a type');
          }
        } catch (error) {
          socket.send(errorFrame(error instanceof FrameError ? error.message : 'frame is not valid JSON'));
          return;
        }
        try {
          switch (frame.type) {
            case 'ping':
              socket.send(JSON.stringify({ type: 'pong' }));
              return;
            case 'resume':
              gateway.resume(conn, parseResume(frame)).catch((error: unknown) => {
                gateway.logFailure(error, 'error', 'resume failed');
                if (isDatabaseUnavailable(error)) {
                  // The replay did not happen: the client resumes again once the database is back.
                  socket.close(CLOSE_TRY_AGAIN_LATER, 'database unavailable: reconnect and resume shortly');
                }
              });
              return;
            case 'typing': {
              if (typeof frame.chatId !== 'string') {
                throw new FrameError('chatId: is required');
              }
              const chatId = frame.chatId;
              void gateway.typing(conn, chatId).then((known) => {
                if (!known) {
                  socket.send(errorFrame(`chat ${chatId} not found`, 'not_found'));
                }
              });
              return;
            }
            default:
              throw new FrameError(`type: must be one of ping, resume, typing`);
          }
        } catch (error) {
          socket.send(errorFrame(error instanceof FrameError ? error.message : 'invalid frame'));
        }
      }
    },
  });

  // HEAD: what a GET would be answered, at once and without a body; no stream, so none of the user's slots.
  app.route({
    method: 'HEAD',
    url: '/events',
    onRequest: authenticate,
    schema: { hide: true },
    handler: async (request, reply) => {
      resumeFromRequest(request);
      return reply.code(200).headers(SSE_HEADERS).send();
    },
  });

  // Fastify would answer HEAD with this handler too: it would open a stream nobody reads and hold a slot.
  const get = {
    onRequest: authenticate,
    exposeHeadRoute: false,
    config: { stream: true, swaggerTransform: ({ url }: { url: string }) => ({ schema: eventsDocs, url }) },
  };
  app.get('/events', get, async (request, reply) => {
    const resume = resumeFromRequest(request);
    const res = reply.raw;
    const transport: Transport = {
      send: (data, cursor) => {
        res.write(cursor ? `id: ${cursor()}\ndata: ${data}\n\n` : `data: ${data}\n\n`);
      },
      bufferedAmount: () => res.writableLength,
      close: (code, reason) => {
        res.end(`data: ${JSON.stringify({ type: 'close', code, reason })}\n\n`);
      },
    };
    const connection = new Connection(actorOf(request), transport);
    // Before the stream starts: over the limit, the answer is a plain 409 (an EventSource does not retry it).
    gateway.admit(connection);
    reply.hijack();
    res.writeHead(200, { ...SSE_HEADERS, connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    sse.add(reply);
    res.on('close', () => {
      sse.delete(reply);
      gateway.close(connection);
    });
    try {
      await gateway.open(connection, resume);
    } catch (error) {
      gateway.logFailure(error, 'error', 'could not open an event stream');
      if (isDatabaseUnavailable(error)) {
        transport.close(CLOSE_TRY_AGAIN_LATER, 'database unavailable: reconnect and resume shortly');
      } else {
        transport.close(CLOSE_GOING_AWAY, 'internal error');
      }
    }
  });
}
