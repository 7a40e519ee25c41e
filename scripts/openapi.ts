/**
 * Writes the OpenAPI document a Parley server with the default configuration publishes at /openapi.json, and with
 * `--lint` checks it with Redocly CLI (the rules of `redocly.yaml`). The document is built at run time from the
 * routes' schemas, so this builds the app (on an in-memory PGlite, never listening) and asks it.
 *
 *   npm run openapi                         # writes tmp/openapi.json
 *   npm run openapi -- --out parley.json    # elsewhere
 *   npm run openapi -- --lint               # and lints it: part of `npm run check`
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: path.join(ROOT, 'tmp', 'openapi.json') },
    lint: { type: 'boolean', default: false },
  },
});
const out = path.resolve(values.out);

// The defaults, not this shell's environment: the document `npm run check` lints is always the same one.
const app = await buildApp(loadConfig({ PARLEY_DATA_DIR: 'memory://', LOG_LEVEL: 'silent' }));
try {
  const answer = await app.inject({ method: 'GET', url: '/openapi.json' });
  if (answer.statusCode !== 200) {
    throw new Error(`GET /openapi.json answered ${answer.statusCode}: ${answer.body.slice(0, 500)}`);
  }
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(answer.json(), null, 2)}\n`);
} finally {
  await app.close();
}
console.log(`OpenAPI document: ${path.relative(process.cwd(), out) || out}`);

if (values.lint) {
  const redocly = path.join(ROOT, 'node_modules', '.bin', 'redocly');
  const lint = spawnSync(redocly, ['lint', out, '--config', path.join(ROOT, 'redocly.yaml')], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'pipe'],
    encoding: 'utf8',
  });
  // Redocly CLI 2 draws a box on every run on Node 20 about its own future releases (this one supports Node 20):
  // left out, so that the check's output shows what the lint found. Everything else it writes is kept.
  process.stderr.write(lint.stderr.replace(/^ *╔═+╗\n(?: *║.*║\n)+ *╚═+╝\n/m, ''));
  process.exitCode = lint.status ?? 1;
}
