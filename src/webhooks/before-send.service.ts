import type { FastifyBaseLogger } from 'fastify';
import type { BeforeSend } from '../context.ts';
import { AppError } from '../errors/codes.ts';
import type { BeforeSendConfig } from './webhook.config.ts';
import { SIGNATURE_HEADER, sign, TIMESTAMP_HEADER } from './webhook.signature.ts';

/**
 * The synchronous "before send" hook (docs/webhooks.md, "Before send"): each send is POSTed, signed like a
 * delivery, to the backend before it is written; the answer lets it through (`allow`, or an empty 2xx), rewrites its
 * text (`rewrite`) or refuses it (`reject`: 403 with the backend's reason). A backend slower than the timeout, down,
 * or answering anything else is a failure: the send goes through unchanged (`allow`) or is refused with a 503
 * (`refuse`), as configured.
 */

type Verdict =
  { action: 'allow' } | { action: 'rewrite'; text: string } | { action: 'reject'; reason: string };

function verdictOf(raw: string): Verdict | null {
  if (raw.trim() === '') {
    return { action: 'allow' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) {
    return null;
  }
  const { action, text, reason } = parsed as { action?: unknown; text?: unknown; reason?: unknown };
  if (action === 'allow') {
    return { action };
  }
  if (action === 'rewrite' && typeof text === 'string') {
    return { action, text };
  }
  if (action === 'reject') {
    return { action, reason: typeof reason === 'string' ? reason.slice(0, 500) : 'refused' };
  }
  return null;
}

export function createBeforeSend(
  config: BeforeSendConfig,
  log: FastifyBaseLogger,
): (send: BeforeSend) => Promise<string> {
  const failed = (send: BeforeSend, problem: string): string => {
    log.warn({ problem, chatId: send.chatId, policy: config.onFailure }, 'the before-send hook failed');
    if (config.onFailure === 'refuse') {
      throw new AppError('unavailable', 'the message could not be checked: try again later', [
        { reason: 'before_send_unavailable' },
      ]);
    }
    return send.text;
  };
  return async (send) => {
    const body = JSON.stringify({ type: 'message.before_send', ...send });
    const timestamp = Math.floor(Date.now() / 1000);
    let verdict: Verdict | null;
    try {
      const response = await fetch(config.url, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Parley-Webhooks',
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: sign(config.secret, timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(config.timeoutMs),
      });
      const raw = await response.text();
      if (response.status < 200 || response.status >= 300) {
        return failed(send, `HTTP ${response.status}`);
      }
      verdict = verdictOf(raw);
    } catch (error) {
      return failed(send, error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    }
    if (verdict === null) {
      return failed(send, 'an answer that is not a verdict');
    }
    if (verdict.action === 'reject') {
      throw new AppError('forbidden', `the message was refused: ${verdict.reason}`, [
        { reason: 'rejected', message: verdict.reason },
      ]);
    }
    return verdict.action === 'rewrite' ? verdict.text : send.text;
  };
}
