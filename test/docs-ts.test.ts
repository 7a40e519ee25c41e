import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import { after, describe, it } from 'node:test';
import { createTestApp, dropSchema, TEST_DATABASE_URL, testSchemaName } from './support/app.ts';
import { freePort } from './support/daemons.ts';
import { copyMigratedCluster } from './support/pglite-template.ts';
import { clusterEnv } from './support/server.ts';

/**
 * The TypeScript examples of docs/: every `ts` block is type-checked as a module of its own, with the package names
 * a user imports (`parley-chat`, `parley-chat-client`) resolved to this tree's sources, and the embedding example
 * is run as written (on a free port) until the Parley it mounts answers. A block that is a fragment names what it
 * takes for granted in an HTML comment right above it, which Markdown does not show:
 * `<!-- ts: declare const app: import('fastify').FastifyInstance; -->`.
 * An example that imports `./parley-api.ts` gets the types openapi-typescript generates from the live
 * `/openapi.json`, as docs/api.md's command makes them. (docs/client.md's example is also checked against the
 * installed client package by test/packages.test.ts.) The type-check does not depend on the engine: it runs in the
 * PGlite pass only; the embedding example runs on both.
 */

const ROOT = path.resolve(import.meta.dirname, '..');
const DOCS = path.join(ROOT, 'docs');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const run = promisify(execFile);

interface Example {
  file: string;
  line: number;
  prelude: string;
  code: string;
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      return markdownFiles(full);
    }
    return entry.name.endsWith('.md') ? [full] : [];
  });
}

/** The `ts` blocks of a Markdown file, each with the declarations of the `<!-- ts: ... -->` comment above it. */
function examples(file: string): Example[] {
  const found: Example[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  let open: { line: number; prelude: string; code: string[] } | null = null;
  for (const [index, line] of lines.entries()) {
    if (open) {
      if (line.startsWith('```')) {
        found.push({ file, line: open.line, prelude: open.prelude, code: open.code.join('\n') });
        open = null;
      } else {
        open.code.push(line);
      }
    } else if (line === '```ts') {
      // Prettier puts a blank line between the comment and the block.
      const previous = lines.slice(0, index).findLast((each) => each.trim() !== '') ?? '';
      const above = /^<!-- ts: (.*) -->$/.exec(previous);
      open = { line: index + 1, prelude: above?.[1] ?? '', code: [] };
    }
  }
  return found;
}

const ALL = markdownFiles(DOCS).flatMap(examples);
const root = mkdtempSync(path.join(ROOT, '.docs-ts-'));
after(() => rmSync(root, { recursive: true, force: true }));

// The examples type-check the same whichever engine the suite runs on: checked once, in the PGlite pass.
const typeCheckSkip = TEST_DATABASE_URL
  ? 'runs in the PGlite pass: type-checking does not depend on the engine'
  : false;

/** Where the examples' imports lead: the names users install, mapped to this tree's sources. */
function writeProject(work: string, files: string[]): string {
  const tsconfig = path.join(work, 'tsconfig.json');
  const compilerOptions = {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2023', 'DOM'],
    types: ['node'],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    allowImportingTsExtensions: true,
    baseUrl: ROOT,
    paths: {
      'parley-chat': ['src/index.ts'],
      'parley-chat-client': ['packages/client/src/index.ts'],
    },
  };
  writeFileSync(tsconfig, JSON.stringify({ compilerOptions, files }));
  writeFileSync(path.join(work, 'package.json'), JSON.stringify({ type: 'module' }));
  return tsconfig;
}

// The type-check (tsc) and the embedding example (a server) run at once, each in a directory of its own.
describe('the TypeScript examples of docs/', { concurrency: true }, () => {
  it('finds examples in the pages that have them', () => {
    const pages = new Set(ALL.map((example) => path.relative(ROOT, example.file)));
    for (const page of ['docs/api.md', 'docs/embedding.md', 'docs/jsonapi.md', 'docs/client.md']) {
      assert.ok(pages.has(page), `${page} has a ts example`);
    }
  });

  it('type-check, each as a module of its own', { skip: typeCheckSkip }, async () => {
    const work = mkdtempSync(path.join(root, 'check-'));
    const app = await createTestApp();
    try {
      const document = (await app.request<OpenAPI3>('GET', '/openapi.json')).body;
      writeFileSync(path.join(work, 'parley-api.ts'), astToString(await openapiTS(document)));
    } finally {
      await app.close();
    }
    const files = ALL.map((example, index) => {
      const name = `example-${index}.ts`;
      const header = `// ${path.relative(ROOT, example.file)}:${example.line}\n`;
      writeFileSync(path.join(work, name), `${header}${example.prelude}\n${example.code}\nexport {};\n`);
      return name;
    });
    const tsconfig = writeProject(work, files);
    await run(process.execPath, [TSC, '-p', tsconfig], { cwd: work }).catch(
      (error: { stdout: string; stderr: string }) =>
        assert.fail(`the examples do not type-check:\n${error.stdout}${error.stderr}`),
    );
  });

  it('the embedding example runs as written: the host answers, and Parley under its prefix', async () => {
    const example = ALL.find((each) => each.file.endsWith('embedding.md'));
    assert.ok(example, 'docs/embedding.md has its example');
    assert.match(example.code, /port: 3000/);
    const port = await freePort();
    const work = mkdtempSync(path.join(root, 'embedding-'));
    const file = path.join(work, 'embedding.ts');
    writeFileSync(file, example.code.replace('port: 3000', `port: ${port}`));
    writeProject(work, ['embedding.ts']);
    const schema = testSchemaName();
    const data = path.join(work, 'data');
    if (!TEST_DATABASE_URL) {
      await copyMigratedCluster(data);
    }
    const env = TEST_DATABASE_URL
      ? clusterEnv(schema)
      : clusterEnv(schema, { DATABASE_URL: '', DB_SCHEMA: '', PARLEY_DATA_DIR: data });
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: work,
      env: { ...process.env, ...env, TSX_TSCONFIG_PATH: path.join(work, 'tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 60_000;
      let ready: Response | null = null;
      while (Date.now() < deadline && child.exitCode === null) {
        ready = await fetch(`${base}/chat/health/ready`).catch(() => null);
        if (ready?.ok) {
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.equal(ready?.status, 200, `Parley under /chat is ready; the example printed:\n${output}`);
      assert.equal(await (await fetch(`${base}/`)).text(), 'my product');
      const refused = await fetch(`${base}/chat/v1/me`);
      assert.equal(refused.status, 401);
      assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'unauthorized');
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) {
        await once(child, 'exit');
      }
      await dropSchema(schema);
    }
  });
});
