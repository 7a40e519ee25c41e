import { randomBytes } from 'node:crypto';
import type { TestApp } from './app.ts';

/**
 * A body as Django's test client posts `data=payload` (multipart/form-data): each value as its text, a list as the
 * field repeated. Returns the request's body and content type.
 */
export function multipart(fields: Record<string, unknown>): { body: string; type: string } {
  const boundary = `BoUnDaRy${randomBytes(8).toString('hex')}`;
  const parts: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      parts.push(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${String(item)}\r\n`,
      );
    }
  }
  return { body: `${parts.join('')}--${boundary}--\r\n`, type: `multipart/form-data; boundary=${boundary}` };
}

/** The same fields as `application/x-www-form-urlencoded`. */
export function urlencoded(fields: Record<string, unknown>): { body: string; type: string } {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      params.append(name, String(item));
    }
  }
  return { body: params.toString(), type: 'application/x-www-form-urlencoded' };
}

/** A request whose body is multipart, as the original's tests send it. */
export function postForm<T = unknown>(
  t: TestApp,
  method: string,
  url: string,
  fields: Record<string, unknown>,
) {
  const { body, type } = multipart(fields);
  return t.request<T>(method, url, body, { 'content-type': type });
}
