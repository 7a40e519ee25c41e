import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { mintToken } from '../src/auth/token.ts';
import { dropSchema, ENGINE, TEST_DATABASE_URL, testConfig, testSchemaName } from './support/app.ts';
import { freePort } from './support/daemons.ts';
import { copyMigratedCluster } from './support/pglite-template.ts';
import { clusterEnv, startServer, type ServerProcess } from './support/server.ts';

/**
 * The two npm packages as they are published: `npm pack` of each (their `prepack` builds), the tarball's files and
 * manifest, then the server run from its unpacked tarball (with this tree's node_modules: installing its
 * dependencies would need the registry) and the client installed from its tarball into a project of its own, with
 * no registry (it has no dependencies), imported from Node, type-checked with tsc, and calling that server.
 */

const ROOT = path.resolve(import.meta.dirname, '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const run = promisify(execFile);

/** The client's budget: a client for browsers stays small. */
const CLIENT_TARBALL_MAX = 28_000;
const CLIENT_UNPACKED_MAX = 96_000;

interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

interface Manifest {
  name: string;
  bin?: Record<string, string>;
  exports?: Record<string, unknown>;
  scripts?: Record<string, string>;
  [field: string]: unknown;
}

// The packages are the same whichever engine the suite runs on: packed and tried once, in the PGlite pass.
const skip = TEST_DATABASE_URL ? 'runs in the PGlite pass: packing does not depend on the engine' : false;

describe(`the npm packages, packed, installed and run (${ENGINE})`, { timeout: 600_000, skip }, () => {
  const dir = skip ? '' : mkdtempSync(path.join(tmpdir(), 'parley-packages-'));
  const schema = testSchemaName();
  const config = testConfig({}, schema);
  let client: Packed;
  let server: Packed;
  let serverDir: string;
  let parley: ServerProcess;

  /** npm as a user runs it: without the npm_* variables of `npm test` (one names this tree as the project). */
  function npm(args: string[], cwd: string) {
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
    return run('npm', args, {
      cwd,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...env, npm_config_cache: path.join(dir, 'npm-cache'), npm_config_update_notifier: 'false' },
    });
  }

  async function pack(workspace: string[]): Promise<Packed> {
    const { stdout } = await npm(['pack', '--json', '--pack-destination', dir, ...workspace], ROOT);
    const [packed] = JSON.parse(stdout) as Packed[];
    assert.ok(packed, 'npm pack reports its tarball');
    return packed;
  }

  async function unpack(filename: string, into: string): Promise<string> {
    mkdirSync(into, { recursive: true });
    await run('tar', ['-xzf', path.join(dir, filename), '-C', into]);
    return path.join(into, 'package');
  }

  const manifest = (packageDir: string) =>
    JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as Manifest;

  before(async () => {
    const data = path.join(dir, 'data');
    // Each package builds and packs its own directory: both at once, while the server's cluster is copied.
    [client, server] = await Promise.all([
      pack(['--workspace', 'packages/client']),
      pack([]),
      copyMigratedCluster(data),
    ]);
    serverDir = await unpack(server.filename, path.join(dir, 'server'));
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(serverDir, 'node_modules'), 'dir');
    const port = String(await freePort());
    parley = await startServer(
      clusterEnv(schema, { PORT: port, DATABASE_URL: '', DB_SCHEMA: '', PARLEY_DATA_DIR: data }),
      [],
      { packageDir: serverDir },
    );
  });

  after(async () => {
    await parley?.stop();
    await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  });

  it('parley-chat-client: a small tarball of its build alone, with no dependencies', async (t) => {
    t.diagnostic(`${client.filename}: ${client.size} bytes, ${client.unpackedSize} unpacked`);
    assert.ok(client.size < CLIENT_TARBALL_MAX, `the tarball is ${client.size} bytes`);
    assert.ok(client.unpackedSize < CLIENT_UNPACKED_MAX, `unpacked, ${client.unpackedSize} bytes`);
    const files = client.files.map((file) => file.path);
    for (const file of files) {
      assert.match(file, /^(package\.json|README\.md|LICENSE|dist\/[\w-]+\.(js|d\.ts))$/, file);
    }
    const packageDir = await unpack(client.filename, path.join(dir, 'client'));
    const pkg = manifest(packageDir);
    assert.equal(pkg.name, 'parley-chat-client');
    assert.equal(pkg.type, 'module');
    for (const field of ['dependencies', 'optionalDependencies', 'bundleDependencies']) {
      assert.equal(pkg[field], undefined, `no ${field}`);
    }
    // `ws`, Node 20's WebSocket when it is installed, is a peer that is never installed for it (see below).
    assert.deepEqual(pkg.peerDependencies, { ws: '>=8.0.0' });
    assert.deepEqual(pkg.peerDependenciesMeta, { ws: { optional: true } });
    for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) {
      assert.equal(pkg.scripts?.[script], undefined, `nothing runs on install (${script})`);
    }
    assert.deepEqual(pkg.exports?.['.'], { types: './dist/index.d.ts', default: './dist/index.js' });
    assert.ok(
      files.includes('dist/index.d.ts') && files.includes('dist/index.js'),
      'what it exports is there',
    );
    assert.ok(files.includes('README.md'));
  });

  it('parley-chat: the tarball holds the CLI, the sources it runs, the build and the demo page', async (t) => {
    t.diagnostic(`${server.filename}: ${server.size} bytes, ${server.unpackedSize} unpacked`);
    const files = server.files.map((file) => file.path);
    for (const file of [
      'bin/parley.js',
      'src/cli.ts',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'web/index.html',
      'web/app.js',
      'packages/client/src/index.ts',
      'README.md',
      'CHANGELOG.md',
      'LICENSE',
    ]) {
      assert.ok(files.includes(file), `${file} is packed`);
    }
    for (const file of files) {
      assert.doesNotMatch(
        file,
        /^(test|bench|docs|deploy|\.ci|data|dist\/(?!src\/)|packages\/client\/(?!src\/|README\.md$|LICENSE$))/,
        file,
      );
    }
    const pkg = manifest(serverDir);
    assert.equal(pkg.name, 'parley-chat');
    assert.deepEqual(pkg.bin, { parley: 'bin/parley.js' });
    assert.deepEqual(Object.keys(pkg.exports ?? {}), ['.'], 'one entry point: the client is its own package');
    assert.equal((pkg.dependencies as Record<string, string>)['parley-chat-client'], undefined);

    const help = await run(process.execPath, ['bin/parley.js', '--help'], { cwd: serverDir });
    assert.match(help.stdout, /^Usage: parley <command>/);
    assert.match(help.stdout, /\bserve\b/);
  });

  it('parley-chat serves from its tarball, and its demo page bundles the client from the source it carries', async () => {
    assert.equal((await fetch(`${parley.url}/health/ready`)).status, 200);
    const page = await fetch(`${parley.url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script[^>]+app\.js/);
    const bundle = await fetch(`${parley.url}/demo/parley-client.js`);
    assert.equal(bundle.status, 200);
    assert.match(await bundle.text(), /export\s*\{[^}]*\bParleyClient\b/);
  });

  it('parley-chat-client installs without a registry, and works from Node against the server', async () => {
    const project = path.join(dir, 'consumer');
    mkdirSync(project);
    writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    const install = await npm(
      ['install', '--offline', '--no-audit', '--no-fund', path.join(dir, client.filename)],
      project,
    );
    assert.doesNotMatch(`${install.stdout}\n${install.stderr}`, /\bwarn/i, 'a clean install');
    assert.match(install.stdout, /added 1 package\b/);
    assert.deepEqual(
      readdirSync(path.join(project, 'node_modules')).filter((name) => !name.startsWith('.')),
      ['parley-chat-client'],
      'nothing else is installed',
    );
    writeFileSync(path.join(project, 'main.js'), CONSUMER_SCRIPT);

    const [alice, bob] = await Promise.all(
      ['pkg-alice', 'pkg-bob'].map((sub) => mintToken(config.jwt, { sub })),
    );
    const env = { ...process.env, PARLEY_URL: parley.url, ALICE: alice!, BOB: bob! };
    const withSocket = await run(process.execPath, ['--experimental-websocket', 'main.js'], {
      cwd: project,
      env,
    });
    const live = JSON.parse(withSocket.stdout) as ConsumerReport;
    assert.equal(live.me, 'pkg-alice');
    assert.equal(live.sent.seq, 1);
    assert.deepEqual(live.retried, live.sent, 'a retry with the same clientId answers the first message');
    assert.deepEqual(live.listed, ['hello from a tarball']);
    assert.deepEqual(live.notFound, { isParleyError: true, status: 404, code: 'not_found' });
    assert.equal(live.streamError, null);
    assert.deepEqual(live.streamed, [{ chatId: live.chatId, seq: 1, text: 'hello from a tarball' }]);

    // Node 20 without the flag has no WebSocket, and the project has no `ws`: the stream says so, REST works.
    const plain = JSON.parse(
      (await run(process.execPath, ['main.js'], { cwd: project, env })).stdout,
    ) as ConsumerReport;
    assert.equal(plain.sent.seq, 2);
    if (plain.globalWebSocket) {
      assert.equal(plain.streamError, null, 'Node 22+: the global WebSocket');
    } else {
      assert.match(plain.streamError ?? '', /^no WebSocket here: install the `ws` package/);
      assert.deepEqual(plain.streamed, []);
    }
  });

  it('parley-chat-client type-checks as installed, for Node and for browsers, with the examples of its docs', async () => {
    const project = path.join(dir, 'consumer');
    const example = (markdown: string) => /```ts\n([\s\S]*?)```/.exec(markdown)?.[1] ?? '';
    const installed = path.join(project, 'node_modules', 'parley-chat-client');
    writeFileSync(path.join(project, 'usage.ts'), TYPED_USAGE);
    writeFileSync(
      path.join(project, 'readme.ts'),
      EXAMPLE_PRELUDE + example(readFileSync(path.join(installed, 'README.md'), 'utf8')),
    );
    writeFileSync(
      path.join(project, 'docs.ts'),
      EXAMPLE_PRELUDE + example(readFileSync(path.join(ROOT, 'docs', 'client.md'), 'utf8')),
    );
    const strict = { strict: true, noEmit: true, skipLibCheck: false, exactOptionalPropertyTypes: true };
    const settings = {
      node: {
        target: 'ES2022',
        module: 'NodeNext',
        lib: ['ES2022'],
        types: ['node'],
        typeRoots: [path.join(ROOT, 'node_modules', '@types')],
      },
      browser: {
        target: 'ES2022',
        module: 'ESNext',
        moduleResolution: 'Bundler',
        lib: ['ES2022', 'DOM'],
        types: [],
      },
    };
    // Both settings at once: each has a tsconfig of its own and emits nothing.
    await Promise.all(
      Object.entries(settings).map(async ([name, options]) => {
        const tsconfig = path.join(project, `tsconfig.${name}.json`);
        const compilerOptions = { ...strict, ...options };
        writeFileSync(
          tsconfig,
          JSON.stringify({ compilerOptions, files: ['usage.ts', 'readme.ts', 'docs.ts'] }),
        );
        await run(process.execPath, [TSC, '-p', tsconfig], { cwd: project }).catch(
          (error: { stdout: string; stderr: string }) =>
            assert.fail(`tsc (${name}) finds errors:\n${error.stdout}${error.stderr}`),
        );
      }),
    );
  });
});

interface ConsumerReport {
  globalWebSocket: boolean;
  me: string;
  chatId: string;
  sent: { id: string; seq: number };
  retried: { id: string; seq: number };
  listed: string[];
  notFound: { isParleyError: boolean; status: number; code: string };
  streamError: string | null;
  streamed: { chatId: string; seq: number; text: string }[];
}

/** What a Node user of the installed client writes: REST calls, a retry, an error, and a stream. */
const CONSUMER_SCRIPT = `
import { ParleyClient, ParleyError } from 'parley-chat-client';

const baseUrl = process.env.PARLEY_URL;
const alice = new ParleyClient({ baseUrl, token: process.env.ALICE });
const bob = new ParleyClient({ baseUrl, token: async () => process.env.BOB });
const report = { globalWebSocket: typeof WebSocket === 'function', streamError: null, streamed: [] };
report.me = (await alice.me()).id;
await bob.me();
const chat = await alice.createChat({ kind: 'direct', members: ['pkg-bob'] });
report.chatId = chat.id;
const last = (await bob.listMessages(chat.id, { limit: 1 })).data.at(-1)?.seq ?? 0;

const stream = bob.stream({ cursors: { [chat.id]: last }, backoff: { initialMs: 20, maxMs: 200 } });
stream.on('message.created', ({ chatId, message }) => report.streamed.push({ chatId, seq: message.seq, text: message.text }));
try {
  await stream.connect();
} catch (error) {
  report.streamError = error.message;
}
const clientId = 'pkg-' + (last + 1);
const sent = await alice.sendMessage(chat.id, { text: 'hello from a tarball', clientId });
const retried = await alice.sendMessage(chat.id, { text: 'hello from a tarball', clientId });
report.sent = { id: sent.id, seq: sent.seq };
report.retried = { id: retried.id, seq: retried.seq };
report.listed = (await bob.listMessages(chat.id, { after: last })).data.map((message) => message.text);
try {
  await alice.getChat('no-such-chat');
} catch (error) {
  report.notFound = { isParleyError: error instanceof ParleyError, status: error.status, code: error.code };
}
const deadline = Date.now() + 10_000;
while (report.streamError === null && report.streamed.length === 0 && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 20));
}
stream.close();
console.log(JSON.stringify(report));
`;

/** The installed declarations are the real types: each misuse below must be an error, or tsc fails. */
const TYPED_USAGE = `
import { ParleyClient, ParleyError, type MessageView, type StreamFrame } from 'parley-chat-client';

const client = new ParleyClient({ baseUrl: 'http://localhost:3000', token: () => 'token' });
const message: MessageView = await client.sendMessage('chat', { text: 'hi', clientId: 'c1' });
const seq: number = message.seq;
// @ts-expect-error a message needs its text
await client.sendMessage('chat', { clientId: 'c2' });
// @ts-expect-error seq is a number
const wrong: string = message.seq;
const stream = client.stream({ cursors: { chat: seq } });
stream.on('chat.created', ({ chat }) => console.log(chat.name, chat.unreadCount));
stream.on('frame', (frame: StreamFrame) => console.log(frame.type));
// @ts-expect-error no such event
stream.on('message.exploded', () => {});
const failure: ParleyError | null = null;
export { failure, wrong };
`;

/** What the examples leave to the reader. */
const EXAMPLE_PRELUDE = `
import type { MessageView as ShownMessage } from 'parley-chat-client';
declare function currentToken(): string;
declare function show(chatId: string, message: ShownMessage): void;
declare function showTyping(chatId: string, userId: string): void;
`;
