import { presentMessage } from '../messages/message.presenter.ts';
import type { MessageRow } from '../messages/message.table.ts';
import type { ClaimedRow, Recipients } from './outbox.repository.ts';
import type { WebhooksConfig } from './webhook.config.ts';

/** What a delivery carries as `data`, built from what the outbox recorded; and when a failed one is tried again. */

/** What the trigger records for a new message: the row as written (JSON). */
export interface CreatedPayload {
  chatId: string;
  seq: number;
  row: Record<keyof MessageRow, unknown> & { author_id: string };
}

export function createdPayload(row: ClaimedRow): CreatedPayload | null {
  return row.type === 'message.created' ? (row.payload as CreatedPayload) : null;
}

const time = (value: unknown): Date => new Date(value as string);
const timeOrNull = (value: unknown): Date | null => (value === null ? null : time(value));
const numberOrNull = (value: unknown): number | null => (value === null ? null : Number(value));

/** The message row back from its JSON (timestamps as strings, bigints as numbers). */
function messageRow(json: CreatedPayload['row']): MessageRow {
  return {
    chat_id: json.chat_id as string,
    seq: Number(json.seq),
    id: json.id as string,
    author_id: json.author_id,
    text: json.text as string | null,
    reply_to: numberOrNull(json.reply_to),
    client_id: json.client_id as string | null,
    created_at: time(json.created_at),
    edited_at: timeOrNull(json.edited_at),
    deleted_at: timeOrNull(json.deleted_at),
    thread_root: numberOrNull(json.thread_root),
    also_in_chat: json.also_in_chat === true,
    reply_count: Number(json.reply_count ?? 0),
    last_reply_at: timeOrNull(json.last_reply_at),
    thread_participants: (json.thread_participants as string[] | null) ?? null,
  };
}

/**
 * What the receiver gets as `data`: the recorded payload; for a new message, its view as sent, and, read as the
 * event is sent, who it mentions and which other members have no live stream (for push notifications).
 */
export function eventData(row: ClaimedRow, recipients: Map<string, Recipients>): unknown {
  const created = createdPayload(row);
  if (!created) {
    return row.payload;
  }
  const message = messageRow(created.row);
  return {
    chatId: created.chatId,
    message: presentMessage(message),
    recipients: recipients.get(`${created.chatId}:${message.seq}`) ?? { offline: [], mentioned: [] },
  };
}

/** The delay before retry `attempts` (1: the first retry): doubling from the base, capped, with ±10 % jitter. */
export function backoff(
  config: Pick<WebhooksConfig, 'retryBaseMs' | 'retryMaxMs'>,
  attempts: number,
): number {
  const raw = Math.min(config.retryMaxMs, config.retryBaseMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
  return Math.round(raw * (0.9 + Math.random() * 0.2));
}
