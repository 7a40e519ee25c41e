import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import ts from 'typescript';
import { createTestApp, ENGINE, type TestApp } from './support/app.ts';

/**
 * A client generated from the live /openapi.json, as a user of the API would make one: TypeScript types by
 * openapi-typescript, calls through openapi-fetch. The calls must type-check (and calls that break the contract must
 * not), and run against a listening server.
 */

const ROOT = path.resolve(import.meta.dirname, '..');

/** The server's own error codes, for the generated types to be compared with. */
const CODES = pathToFileURL(path.join(ROOT, 'src', 'errors', 'codes.ts')).pathname;

/** Typed calls: what a client of the generated types writes. Type-checked, then imported and run. */
const CALLS = `
import createClient from 'openapi-fetch';
import type { ErrorCode } from '${CODES}';
import type { components, paths } from './parley-api.ts';

type Schemas = components['schemas'];
export type Chat = Schemas['Chat'];

/** Type-level equality: Expect<Equal<A, B>> fails to compile unless A and B are the same type. */
type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;
export type Checks = [
  Expect<Equal<Chat['kind'], 'direct' | 'group'>>,
  Expect<Equal<Chat['role'], 'owner' | 'admin' | 'member' | null>>,
  Expect<Equal<NonNullable<Chat['lastMessage']>, Schemas['Message']>>,
  Expect<Equal<Schemas['Message']['text'], string | null>>,
  Expect<Equal<Schemas['Error']['error']['code'], ErrorCode>>,
];

export function parley(baseUrl: string, token: string) {
  return createClient<paths, 'application/json'>({ baseUrl, headers: { authorization: \`Bearer \${token}\` } });
}

export async function run(baseUrl: string, token: string) {
  const client = parley(baseUrl, token);
  const created = await client.POST('/v1/chats', { body: { kind: 'group', name: 'typed', visibility: 'private' } });
  if (!created.data) {
    throw new Error(\`createChat: \${created.response.status}\`);
  }
  const chat: Chat = created.data;
  const sent = await client.POST('/v1/chats/{id}/messages', {
    params: { path: { id: chat.id } },
    body: { text: 'hello, typed', clientId: 'typed-1' },
  });
  const seq: number | undefined = sent.data?.seq;
  const page = await client.GET('/v1/chats/{id}/messages', {
    params: { path: { id: chat.id }, query: { limit: 10 } },
  });
  const texts: (string | null)[] = (page.data?.data ?? []).map((message) => message.text);
  const unread = await client.GET('/v1/unread');
  const total: number | undefined = unread.data?.total;
  const missing = await client.GET('/v1/chats/{id}', { params: { path: { id: 'no-such-chat' } } });
  const code: Schemas['Error']['error']['code'] | undefined = missing.error?.error.code;
  return { chat, status: created.response.status, seq, texts, total, missing: missing.response.status, code };
}

/** Calls that break the contract: each must be a type error (tsc fails on an unused @ts-expect-error). */
export async function refused(client: ReturnType<typeof parley>) {
  // @ts-expect-error text is a string
  await client.POST('/v1/chats/{id}/messages', { params: { path: { id: 'c' } }, body: { text: 42 } });
  // @ts-expect-error text is required
  await client.POST('/v1/chats/{id}/messages', { params: { path: { id: 'c' } }, body: { clientId: 'c-1' } });
  // @ts-expect-error a chat is direct or a group
  await client.POST('/v1/chats', { body: { kind: 'channel' } });
  // @ts-expect-error a status is online, busy or offline
  await client.PATCH('/v1/me', { body: { status: 'away' } });
  // @ts-expect-error no such field (openapi-fetch's bodies take extra fields; the schema's type does not)
  const change: Schemas['UpdateMeInput'] = { nickname: 'x' };
  await client.PATCH('/v1/me', { body: change });
  // @ts-expect-error the path needs its chat id
  await client.GET('/v1/chats/{id}', {});
  // @ts-expect-error no such route
  await client.GET('/v1/chat');
  // @ts-expect-error seq is a number
  await client.POST('/v1/chats/{id}/read', { params: { path: { id: 'c' } }, body: { seq: '3' } });
  const me = await client.GET('/v1/me');
  // @ts-expect-error a user has no such field
  return me.data?.nickname;
}
`;

function typeErrors(files: string[]): string[] {
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    noUncheckedIndexedAccess: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowImportingTsExtensions: true,
    verbatimModuleSyntax: true,
    skipLibCheck: true,
    types: [],
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
  });
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const where = diagnostic.file
      ? `${path.basename(diagnostic.file.fileName)}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line + 1}`
      : '';
    return `${where} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
  });
}

describe(`a client generated from /openapi.json (${ENGINE})`, () => {
  let t: TestApp;
  let dir: string;

  before(async () => {
    t = await createTestApp();
    // Inside the repository, so that the generated files find openapi-fetch in its node_modules.
    mkdirSync(path.join(ROOT, 'tmp'), { recursive: true });
    dir = mkdtempSync(path.join(ROOT, 'tmp', 'openapi-client-'));
  });

  after(async () => {
    await t?.close();
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('generates types that type-check typed calls and refuse calls that break the contract', async () => {
    const document = (await t.request<OpenAPI3>('GET', '/openapi.json')).body;
    const types = astToString(await openapiTS(document));
    // The views are named types, not copies per operation.
    for (const name of ['Chat', 'Message', 'User', 'Member', 'UnreadSummary', 'Error', 'JsonApiDocument']) {
      assert.match(types, new RegExp(`\\n {8}${name}: \\{`), `components.schemas.${name}`);
    }
    writeFileSync(path.join(dir, 'parley-api.ts'), types);
    writeFileSync(path.join(dir, 'calls.ts'), CALLS);
    assert.deepEqual(typeErrors([path.join(dir, 'calls.ts')]), []);

    // The same file with one of the refused calls no longer refused: tsc must now fail (the check can fail).
    const loosened = CALLS.replace('// @ts-expect-error text is a string\n', '');
    writeFileSync(path.join(dir, 'loosened.ts'), loosened);
    const errors = typeErrors([path.join(dir, 'loosened.ts')]);
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0]!, /Type 'number' is not assignable to type 'string'/);
  });

  it('runs typed calls against a listening server', async () => {
    const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const calls = (await import(pathToFileURL(path.join(dir, 'calls.ts')).href)) as {
      run(baseUrl: string, token: string): Promise<Record<string, unknown>>;
    };
    const result = await calls.run(base, await t.token('typed-alice'));
    assert.equal(result.status, 201);
    assert.equal((result.chat as { name: string }).name, 'typed');
    assert.equal(result.seq, 1);
    assert.deepEqual(result.texts, ['hello, typed']);
    assert.equal(result.total, 0, 'your own messages are never unread');
    assert.equal(result.missing, 404);
    assert.equal(result.code, 'not_found');
  });
});
