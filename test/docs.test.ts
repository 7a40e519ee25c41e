import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { TEST_DATABASE_URL } from './support/app.ts';
import { freePort } from './support/daemons.ts';

/**
 * The README's commands, run as a newcomer runs them: every `sh` block, in order, in bash with `set -euo pipefail`,
 * against a fresh data directory, so that the README cannot drift from what Parley does.
 *
 * What differs from a newcomer's terminal, and why:
 * - The suite runs in an installed tree, so `npm install` is not run again, and the commands that run the suite or
 *   CI themselves (`npm test`, `npm run test:pg`, `npm run check`, `bash .ci/run`) are passed over.
 * - `npm start` runs in the background, as "in another terminal" says, until the blocks after it have run.
 * - Port 3000 and `./data` may be taken on a developer's machine: the server gets a free port (`localhost:3000` in
 *   the commands is rewritten to it) and `PARLEY_DATA_DIR` a temporary directory, for the server and the CLI alike.
 * - `curl` fails on an HTTP error (`--fail-with-body`), so a refused request fails the block instead of printing a
 *   JSON error nobody reads.
 * - The PostgreSQL block runs on the PostgreSQL pass only, on a database of its own (the name `parley` rewritten),
 *   which it drops afterwards; the first chat is then run again against that server.
 */

const ROOT = path.resolve(import.meta.dirname, '..');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

interface Block {
  heading: string;
  text: string;
}

/** The `sh` blocks of a Markdown text, each with the heading it is under. */
function shellBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  let heading = '';
  let open: string[] | null = null;
  for (const line of markdown.split('\n')) {
    if (open) {
      if (line.startsWith('```')) {
        blocks.push({ heading, text: open.join('\n') });
        open = null;
      } else {
        open.push(line);
      }
    } else if (line.startsWith('#')) {
      heading = line.replace(/^#+\s*/, '');
    } else if (line === '```sh') {
      open = [];
    }
  }
  return blocks;
}

/** A block's commands: its lines with `\` continuations joined, comments and blank lines left out. */
function commands(block: Block): string[] {
  return block.text
    .replace(/\\\n/g, '')
    .split('\n')
    .map((line) => line.replace(/\s+#\s.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

const SUITE_ITSELF = /^(npm test|npm run test:pg|npm run check|bash \.ci\/run)\b/;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function bash(script: string, env: Record<string, string>): Run {
  const prelude = 'set -euo pipefail\ncurl() { command curl --silent --show-error --fail-with-body "$@"; }\n';
  const result = spawnSync('bash', ['-c', prelude + script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface Server {
  child: ChildProcess;
  output: string[];
  env: Record<string, string>;
}

/**
 * A line ending in `npm start`, with the variables it sets before it (`A=1 B=$(openssl ...) npm start`): bash works
 * the variables out once, as it would for the line, and `npm start` runs with them in the background until it answers
 * /health/ready. Returns the environment it runs with, for the commands that follow (a token signed with its secret).
 */
async function start(line: string, env: Record<string, string>, port: number): Promise<Server> {
  const prefix = line.replace(/^npm install\s*&&\s*/, '').replace(/npm start$/, '');
  assert.doesNotMatch(prefix, /npm|&&|;/, `only variables before \`npm start\`: ${line}`);
  const worked = spawnSync('bash', ['-c', `${prefix} env -0`], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  assert.equal(worked.status, 0, worked.stderr);
  const serverEnv = Object.fromEntries(
    worked.stdout
      .split('\0')
      .filter((entry) => entry.includes('='))
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: serverEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const deadline = Date.now() + 90_000;
  for (;;) {
    assert.equal(child.exitCode, null, `\`${line}\` exited:\n${output.join('')}`);
    assert.ok(Date.now() < deadline, `\`${line}\` did not get ready in 90 s:\n${output.join('')}`);
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null);
    if (ready?.status === 200) {
      return { child, output, env: serverEnv };
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function stop(server: Server): Promise<void> {
  if (server.child.exitCode !== null) {
    return;
  }
  const exited = once(server.child, 'exit');
  // npm runs the server as its child: the whole process group gets the signal, as Ctrl-C would send it.
  process.kill(-server.child.pid!, 'SIGINT');
  await exited;
}

describe('the README, run from the top', { timeout: 300_000 }, () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-readme-'));
  const servers: Server[] = [];
  const dropDatabases: string[] = [];

  after(async () => {
    await Promise.all(servers.map(stop));
    for (const name of dropDatabases) {
      bash(`dropdb -h 127.0.0.1 -U postgres --if-exists ${name}`, {});
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('every shell block works as written, in order', async (t) => {
    const blocks = shellBlocks(README);
    assert.ok(blocks.length >= 3, 'the README has its shell blocks');
    const port = await freePort();
    const env = { PARLEY_DATA_DIR: dataDir, PORT: String(port) };
    const here = (command: string) => command.replaceAll('localhost:3000', `localhost:${port}`);
    let firstChat: Block | null = null;
    let ran = 0;

    for (const block of blocks) {
      if (block.heading === 'On PostgreSQL') {
        continue; // below: the PostgreSQL pass only
      }
      const script: string[] = [];
      for (const command of commands(block)) {
        if (SUITE_ITSELF.test(command)) {
          continue;
        }
        if (/(^|&& )npm start$/.test(command)) {
          servers.push(await start(command, env, port));
          continue;
        }
        script.push(here(command));
      }
      if (script.length === 0) {
        continue;
      }
      const run = bash(script.join('\n'), env);
      assert.equal(run.status, 0, `${block.heading}:\n${script.join('\n')}\n${run.stdout}\n${run.stderr}`);
      t.diagnostic(`${block.heading}: ${script.length} commands`);
      ran += script.length;
      if (block.heading === 'A first chat' && firstChat === null) {
        firstChat = block;
        const lines = run.stdout.trim().split('\n');
        assert.equal(JSON.parse(lines[0]!).id, 'alice', "GET /v1/me names the token's user");
        assert.equal(JSON.parse(lines[1]!).seq, 1, 'the first message of the chat has seq 1');
        assert.deepEqual(
          JSON.parse(lines[2]!),
          { total: 0, mentionTotal: 0, chats: [], threads: [] },
          'your own messages are never unread',
        );
      }
    }
    assert.ok(firstChat, 'the README has "A first chat"');
    assert.ok(servers.length === 1, 'the README starts the server');
    assert.ok(ran >= 6, `${ran} commands ran`);
    // `parley seed` went through the running server: its group is there.
    const seeded = bash(`npm run -s parley -- token --sub alice`, env);
    const chats = (await (
      await fetch(`http://127.0.0.1:${port}/v1/chats`, {
        headers: { authorization: `Bearer ${seeded.stdout.trim()}` },
      })
    ).json()) as { data: { name: string }[] };
    assert.deepEqual(chats.data.map((c) => c.name).sort(), ['general', 'hello']);
  });

  it(
    'the PostgreSQL block works as written',
    { skip: TEST_DATABASE_URL ? false : 'PostgreSQL pass only' },
    async () => {
      const blocks = shellBlocks(README);
      const block = blocks.find((b) => b.heading === 'On PostgreSQL');
      const firstChat = blocks.find((b) => b.heading === 'A first chat');
      assert.ok(block && firstChat, 'the README has "On PostgreSQL" and "A first chat"');
      const name = `parley_readme_${process.pid}`;
      dropDatabases.push(name);
      const port = await freePort();
      const env: Record<string, string> = {
        PARLEY_DATA_DIR: mkdtempSync(path.join(dataDir, 'pg-')),
        PORT: String(port),
      };
      // The database's name, in `createdb ... parley` and in the URL's path.
      const own = (command: string) => command.replace(/(\s|\/)parley(\s|$)/g, `$1${name}$2`);
      let server: Server | null = null;
      for (const command of commands(block).map(own)) {
        if (/npm start$/.test(command)) {
          server = await start(command, env, port);
          servers.push(server);
          continue;
        }
        const exported = /^export ([A-Z_]+)=/.exec(command);
        if (exported) {
          // What the terminal keeps for the commands after it (the same secret for the server and `parley token`).
          const value = bash(`${command}\nprintf %s "$${exported[1]}"`, env);
          assert.equal(value.status, 0, `${command}\n${value.stderr}`);
          env[exported[1]!] = value.stdout;
          continue;
        }
        const run = bash(command, env);
        assert.equal(run.status, 0, `${command}\n${run.stdout}\n${run.stderr}`);
      }
      assert.ok(server, 'the block starts the server');
      assert.match(server.env.DATABASE_URL ?? '', new RegExp(`/${name}$`));
      assert.equal(server.env.JWT_SECRET, env.JWT_SECRET, 'the server signs with the exported secret');
      // The first chat, against this server, in the terminal where the secret was exported.
      const script = commands(firstChat).map((c) => c.replaceAll('localhost:3000', `localhost:${port}`));
      const run = bash(script.join('\n'), env);
      assert.equal(run.status, 0, `${script.join('\n')}\n${run.stdout}\n${run.stderr}`);
      const lines = run.stdout.trim().split('\n');
      assert.equal(JSON.parse(lines[1]!).seq, 1);
    },
  );
});
