import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ERROR_STATUS } from '../src/errors/codes.ts';
import { createTestApp, ENGINE, type TestApp } from './support/app.ts';
import { RawConnection, type RawAnswer } from './support/raw-http.ts';

/** The contract's error body, exactly: `{"error": {"code", "message"}}` with the code's status. */
function assertContract(answer: RawAnswer, status: number, code: keyof typeof ERROR_STATUS): void {
  assert.equal(answer.status, status, answer.body);
  assert.equal(ERROR_STATUS[code], status, `${code} answers ${status}`);
  assert.match(answer.headers['content-type'] ?? '', /^application\/json/);
  const body = JSON.parse(answer.body) as { error: { code: string; message: string } };
  assert.deepEqual(Object.keys(body), ['error'], answer.body);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message'], answer.body);
  assert.equal(body.error.code, code, answer.body);
  assert.ok(body.error.message.startsWith('request: ') || body.error.message.startsWith('host: '));
}

describe(`requests refused before routing, on a listening server (${ENGINE})`, () => {
  let t: TestApp;
  let port: number;
  before(async () => {
    t = await createTestApp();
    port = Number(new URL(await t.app.listen({ port: 0, host: '127.0.0.1' })).port);
  });
  after(async () => {
    await t.close();
  });

  /** Sends `request` on a new connection: its one answer, once the server has closed the connection. */
  async function refusal(request: string): Promise<RawAnswer> {
    const connection = await RawConnection.open(port);
    try {
      connection.write(request);
      const [answer] = await connection.answers(1);
      assert.ok(await connection.closesWithin(2000), 'the server closes the connection');
      assert.equal(answer!.headers.connection, 'close');
      assert.equal(parseAnswersCount(connection.received), 1, 'one answer, nothing after it');
      return answer!;
    } finally {
      connection.destroy();
    }
  }

  const parseAnswersCount = (text: string) => text.split(/^HTTP\/1\.1 /m).length - 1;

  it('a URL over 16 KiB → 431 headers_too_large', async () => {
    const answer = await refusal(`GET /v1/chats/${'a'.repeat(17 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assertContract(answer, 431, 'headers_too_large');
    assert.match(answer.body, /16384 bytes/);
  });

  it('headers over 16 KiB → 431 headers_too_large', async () => {
    assertContract(
      await refusal(`GET /v1/me HTTP/1.1\r\nHost: x\r\nCookie: ${'c'.repeat(17 * 1024)}\r\n\r\n`),
      431,
      'headers_too_large',
    );
    const many = Array.from({ length: 400 }, (_, i) => `X-Header-${i}: ${'v'.repeat(40)}\r\n`).join('');
    assertContract(await refusal(`GET /v1/me HTTP/1.1\r\nHost: x\r\n${many}\r\n`), 431, 'headers_too_large');
  });

  it('a malformed request line → 400 invalid_request', async () => {
    for (const line of [
      'NOT A REQUEST',
      'GET /health/live HTTP/9.9',
      'GET /a b HTTP/1.1',
      'GET /health/live HTTP/1.1 extra',
      '\u0001GET / HTTP/1.1',
    ]) {
      assertContract(await refusal(`${line}\r\nHost: x\r\n\r\n`), 400, 'invalid_request');
    }
    // Bare LF line ends are not HTTP/1.1 either (a smuggling vector when proxies read them otherwise).
    assertContract(await refusal('GET /health/live HTTP/1.1\nHost: x\n\n'), 400, 'invalid_request');
  });

  it('bad characters in a header → 400 invalid_request', async () => {
    for (const header of [
      'X-Test: a\u0001b',
      'X-Test: a\u0000b',
      'Bad Header: x',
      'X-Tést: x',
      ': no name',
    ]) {
      const answer = await refusal(`GET /health/live HTTP/1.1\r\nHost: x\r\n${header}\r\n\r\n`);
      assertContract(answer, 400, 'invalid_request');
    }
  });

  it('ambiguous or broken framing of the body → 400 invalid_request', async () => {
    for (const request of [
      'POST /v1/chats HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
      'POST /v1/chats HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
      'POST /v1/chats HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      // Headers fine, the chunked body broken: the request has reached the app, which has not answered yet.
      'POST /dev/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    ]) {
      assertContract(await refusal(request), 400, 'invalid_request');
    }
  });

  it('an HTTP/1.1 request without Host → 400 invalid_request naming host', async () => {
    const answer = await refusal('GET /health/live HTTP/1.1\r\n\r\n');
    assertContract(answer, 400, 'invalid_request');
    assert.match(answer.body, /"host: /);
  });

  it('an expectation other than 100-continue is ignored, not answered with an empty 417', async () => {
    const connection = await RawConnection.open(port);
    try {
      connection.write('GET /health/live HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n');
      const [answer] = await connection.answers(1);
      assert.equal(answer!.status, 200);
      assert.deepEqual(JSON.parse(answer!.body), { status: 'ok' });
    } finally {
      connection.destroy();
    }
  });

  it('a bad request after a good one on a kept-alive connection: the good answer, then the refusal', async () => {
    const connection = await RawConnection.open(port);
    try {
      connection.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
      const [ok] = await connection.answers(1);
      assert.equal(ok!.status, 200);
      connection.write('GET /health/live HTTP/1.1\r\nHost: x\r\nX-Bad: \u0001\r\n\r\n');
      const [, refused] = await connection.answers(2);
      assertContract(refused!, 400, 'invalid_request');
      assert.ok(await connection.closesWithin(2000));
    } finally {
      connection.destroy();
    }
  });

  it('keeps serving everyone else', async () => {
    await Promise.all(
      Array.from({ length: 20 }, () => refusal(`GET /${'u'.repeat(17 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`)),
    );
    const res = await fetch(`http://127.0.0.1:${port}/health/live`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });
});
