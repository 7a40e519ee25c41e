import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * How a delivery is signed (docs/webhooks.md, "Verifying a delivery"): `Parley-Webhook-Signature: v1=<hex>`, the
 * HMAC-SHA256 of `<timestamp>.<body>` under the subscription's secret, where `<timestamp>` is the
 * `Parley-Webhook-Timestamp` header (Unix seconds) and `<body>` the raw request body.
 */
export const SIGNATURE_HEADER = 'parley-webhook-signature';
export const TIMESTAMP_HEADER = 'parley-webhook-timestamp';
export const ID_HEADER = 'parley-webhook-id';

export function sign(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** A signature is good when it matches and its timestamp is within `toleranceSeconds` of now. */
export function verify(
  secret: string,
  header: { signature: string | undefined; timestamp: string | undefined },
  body: string,
  toleranceSeconds = 300,
  now = Date.now(),
): boolean {
  const timestamp = Number(header.timestamp);
  if (!header.signature || !Number.isSafeInteger(timestamp)) {
    return false;
  }
  if (Math.abs(now / 1000 - timestamp) > toleranceSeconds) {
    return false;
  }
  const expected = Buffer.from(sign(secret, timestamp, body));
  const given = Buffer.from(header.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** A new secret: 32 random bytes, base64url, with a recognisable prefix. */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}
