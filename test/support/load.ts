import assert from 'node:assert/strict';
import type { BodyOf, MessageView } from './api.ts';

/** One HTTP answer of a server process, with how long it took; the body typed as the route answers on success. */
export interface Answer<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
  /** When the request left, in ms (Date.now()). */
  at: number;
  /** How long the answer took, in ms. */
  ms: number;
}

/**
 * One HTTP call to a server process as `token`'s user. A network failure (the process died, the port is closed)
 * rejects; so does an answer slower than `timeoutMs`, which would be a hang.
 */
export async function request<M extends string, U extends string>(
  baseUrl: string,
  token: string,
  method: M,
  path: U,
  body?: unknown,
  timeoutMs = 20_000,
): Promise<Answer<BodyOf<M, U>>> {
  const at = Date.now();
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    body: (text && type.includes('json') ? JSON.parse(text) : text) as BodyOf<M, U>,
    headers: response.headers,
    at,
    ms: Date.now() - at,
  };
}

/** One send a client means to make exactly once: retried with the same clientId until it is acknowledged. */
export interface Attempt {
  chatId: string;
  clientId: string;
  text: string;
  token: string;
}

/** What the server said a send became. */
export interface Stored {
  id: string;
  seq: number;
}

/**
 * What the clients of a load test know: every send they attempted, the ones the server acknowledged (with the id
 * and seq it gave), and the ones that got no answer, or an answer that says nothing was stored (a 503).
 */
export class SendLedger {
  readonly attempts = new Map<string, Attempt>();
  readonly acked = new Map<string, Stored>();
  readonly unanswered = new Map<string, Attempt>();
  /** Retries answered 200: sends that had been stored although their first answer never came. */
  foundOnRetry = 0;
  /** Retries answered 201: sends that had not been stored. */
  createdOnRetry = 0;

  /**
   * POST the send. 201 (and 200 for a retry) acknowledge it; a 503 or a network failure leave it unanswered and
   * resolve with null, or with the 503; anything else fails the test.
   */
  async send(baseUrl: string, attempt: Attempt, timeoutMs?: number): Promise<Answer<MessageView> | null> {
    this.attempts.set(attempt.clientId, attempt);
    let answer: Answer<MessageView>;
    try {
      answer = await request(
        baseUrl,
        attempt.token,
        'POST',
        `/v1/chats/${attempt.chatId}/messages`,
        { text: attempt.text, clientId: attempt.clientId },
        timeoutMs,
      );
    } catch {
      this.unanswered.set(attempt.clientId, attempt);
      return null;
    }
    if (answer.status === 201 || answer.status === 200) {
      this.acknowledge(attempt, answer);
      return answer;
    }
    if (answer.status === 503) {
      this.unanswered.set(attempt.clientId, attempt);
      return answer;
    }
    assert.fail(`send ${attempt.clientId}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }

  private acknowledge(attempt: Attempt, answer: Answer<MessageView>): void {
    const message = answer.body;
    assert.equal(message.clientId, attempt.clientId);
    assert.equal(message.text, attempt.text);
    const earlier = this.acked.get(attempt.clientId);
    if (earlier) {
      // The same send acknowledged twice (a retry of an acknowledged send) must be the same message.
      assert.deepEqual({ id: message.id, seq: message.seq }, earlier, `clientId ${attempt.clientId}`);
    }
    if (this.unanswered.delete(attempt.clientId)) {
      if (answer.status === 200) {
        this.foundOnRetry += 1;
      } else {
        this.createdOnRetry += 1;
      }
    }
    this.acked.set(attempt.clientId, { id: message.id, seq: message.seq });
  }

  /** Retries every unanswered send with its own clientId, a few at a time, until each is acknowledged. */
  async retryAll(baseUrl: string, concurrency = 16): Promise<void> {
    const queue = [...this.unanswered.values()];
    const worker = async () => {
      for (let attempt = queue.shift(); attempt; attempt = queue.shift()) {
        const answer = await this.send(baseUrl, attempt);
        assert.ok(
          answer && (answer.status === 200 || answer.status === 201),
          `retry of ${attempt.clientId} failed: ${answer ? `${answer.status} ${JSON.stringify(answer.body)}` : 'no answer'}`,
        );
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    assert.equal(this.unanswered.size, 0);
  }

  /**
   * Reads every chat's whole history and checks it against what the clients know: seqs 1..N without a gap, no
   * clientId twice, every acknowledged send stored with the id and seq it was acknowledged with, and every attempted
   * send stored exactly once (nothing stored that nobody sent). Returns the messages per chat.
   */
  async verify(baseUrl: string, readerToken: string, chatIds: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    const seen = new Map<string, Stored & { chatId: string }>();
    for (const chatId of chatIds) {
      const seqs: number[] = [];
      let after = 0;
      for (;;) {
        const page = await request(
          baseUrl,
          readerToken,
          'GET',
          `/v1/chats/${chatId}/messages?after=${after}&limit=200`,
        );
        assert.equal(page.status, 200, JSON.stringify(page.body));
        const data = page.body.data;
        for (const message of data) {
          seqs.push(message.seq);
          assert.ok(message.clientId, `message ${message.seq} of ${chatId} has no clientId`);
          assert.ok(!seen.has(message.clientId), `clientId ${message.clientId} stored twice`);
          seen.set(message.clientId, { id: message.id, seq: message.seq, chatId });
        }
        if (data.length < 200) {
          break;
        }
        after = data[data.length - 1]!.seq;
      }
      assert.deepEqual(
        seqs,
        Array.from({ length: seqs.length }, (_, i) => i + 1),
        `seqs of chat ${chatId} are 1..N without a gap`,
      );
      counts.set(chatId, seqs.length);
    }
    for (const [clientId, stored] of this.acked) {
      const found = seen.get(clientId);
      assert.ok(found, `acknowledged send ${clientId} (seq ${stored.seq}) is lost`);
      assert.deepEqual({ id: found.id, seq: found.seq }, stored, `acknowledged send ${clientId} changed`);
      assert.equal(found.chatId, this.attempts.get(clientId)?.chatId);
    }
    for (const clientId of seen.keys()) {
      assert.ok(this.attempts.has(clientId), `a message nobody sent: ${clientId}`);
    }
    assert.equal(seen.size, this.attempts.size, 'every attempted send is stored exactly once');
    return counts;
  }
}

/** The q-th quantile (0..1) of some numbers, by nearest rank. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) {
    return Number.NaN;
  }
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
