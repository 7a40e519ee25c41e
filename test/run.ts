import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { run } from 'node:test';
import { dot, spec, tap } from 'node:test/reporters';

/**
 * `npm test`: every test file (or the files named on the command line) through node's test runner, in two groups.
 * Most files run several at a time (PARLEY_TEST_CONCURRENCY, by default one more than the machine has cores: test
 * apps wait on timers, sockets and child processes much of the time), the longest first; each works in a database of its own (an
 * in-memory PGlite, or a PostgreSQL schema it creates). The files in SERIAL then run one at a time, alone: they
 * measure time, rate limits or deadlines, or kill and restart processes under load, and must not share the machine
 * with other tests while they do. One report for both groups, with node's closing summary (`# tests`, `# pass`,
 * `# fail`...) over all of them: TAP, or the spec reporter on a terminal (PARLEY_TEST_REPORTER=spec|tap|dot).
 * The exit code is 1 when any test failed; a file that has not ended after PARLEY_TEST_FILE_TIMEOUT_MS (10 minutes)
 * fails. PARLEY_TEST_TIMES=1 lists the slowest files on stderr at the end.
 */

const SERIAL = new Set([
  'blackhole.test.ts',
  'bus-outage.test.ts',
  'client-address.test.ts',
  'client-restart.test.ts',
  'connection-loss.test.ts',
  'crash.test.ts',
  'datadir.test.ts',
  'deadline.test.ts',
  'descriptors.test.ts',
  'docs.test.ts',
  'e2e-browser.test.ts',
  'e2e-demo-moderation.test.ts',
  'e2e-demo-threads.test.ts',
  'e2e-demo.test.ts',
  'http-timeouts.test.ts',
  'limits.test.ts',
  'outage.test.ts',
  'processes.test.ts',
  'realtime-cluster.test.ts',
  'realtime-limits.test.ts',
  'shutdown.test.ts',
]);

/**
 * The longest files of the parallel group, longest first (PARLEY_TEST_TIMES=1 lists them): they start before the
 * others, so the group does not end with one of them running alone while the other cores wait. The rest follow in
 * name order.
 */
const LONGEST = [
  'authz-matrix.test.ts',
  'fuzz.test.ts',
  'packages.test.ts',
  'metrics.test.ts',
  'docs-ts.test.ts',
  'cli.test.ts',
  'dialect-sourceloop-original.test.ts',
  'messages.test.ts',
  'jsonapi.test.ts',
];

const DIR = import.meta.dirname;
const SUMMARY = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ([\d.]+)$/;

/** What the runner reports and the reporters read. */
type Event = Parameters<typeof tap>[0] extends AsyncGenerator<infer E> ? E : never;

function files(): string[] {
  const named = process.argv.slice(2);
  if (named.length > 0) {
    return named.map((file) => path.resolve(file));
  }
  return readdirSync(DIR)
    .filter((file) => file.endsWith('.test.ts'))
    .sort()
    .map((file) => path.join(DIR, file));
}

/** A file still running after this long (PARLEY_TEST_FILE_TIMEOUT_MS, 10 minutes) fails rather than hang the run. */
function fileTimeout(): number {
  const configured = Number(process.env.PARLEY_TEST_FILE_TIMEOUT_MS);
  return Number.isInteger(configured) && configured > 0 ? configured : 600_000;
}

function concurrency(): number {
  const configured = Number(process.env.PARLEY_TEST_CONCURRENCY);
  return Number.isInteger(configured) && configured > 0 ? configured : availableParallelism() + 1;
}

/** The files in the order they start: the LONGEST first, then the others as they came. */
function longestFirst(list: string[]): string[] {
  const rank = (file: string) => {
    const index = LONGEST.indexOf(path.basename(file));
    return index === -1 ? LONGEST.length : index;
  };
  return list
    .map((file, index) => ({ file, index }))
    .sort((a, b) => rank(a.file) - rank(b.file) || a.index - b.index)
    .map(({ file }) => file);
}

const all = files();
const groups = [
  { files: longestFirst(all.filter((file) => !SERIAL.has(path.basename(file)))), concurrency: concurrency() },
  { files: all.filter((file) => SERIAL.has(path.basename(file))), concurrency: 1 },
];

const totals = new Map<string, number>();
const perFile = new Map<string, number>();
let failed = false;

/** Both groups' events as one run: top-level tests numbered on, one plan and one summary at the end. */
async function* events(): AsyncGenerator<Event, void> {
  const started = performance.now();
  let number = 0;
  for (const group of groups) {
    if (group.files.length === 0) {
      continue;
    }
    for await (const event of run({
      files: group.files,
      concurrency: group.concurrency,
      timeout: fileTimeout(),
    }) as AsyncIterable<Event>) {
      if (event.type === 'test:diagnostic' && event.data.nesting === 0) {
        const summary = SUMMARY.exec(event.data.message);
        if (summary) {
          totals.set(summary[1]!, (totals.get(summary[1]!) ?? 0) + Number(summary[2]));
          continue;
        }
      }
      if (event.type === 'test:plan' && event.data.nesting === 0) {
        continue;
      }
      if (event.type === 'test:fail') {
        failed = true;
      }
      if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.nesting === 0) {
        number += 1;
        event.data.testNumber = number;
        if (event.data.file) {
          const ms = event.data.details.duration_ms;
          perFile.set(event.data.file, (perFile.get(event.data.file) ?? 0) + ms);
        }
      }
      yield event;
    }
  }
  yield { type: 'test:plan', data: { nesting: 0, count: number } };
  for (const name of ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo']) {
    yield { type: 'test:diagnostic', data: { nesting: 0, message: `${name} ${totals.get(name) ?? 0}` } };
  }
  yield {
    type: 'test:diagnostic',
    data: { nesting: 0, message: `duration_ms ${performance.now() - started}` },
  };
}

/** The events in the reporter's format: spec on a terminal, else TAP (as `node --test` chooses), or as told. */
function report(source: AsyncGenerator<Event, void>): Readable {
  const name = process.env.PARLEY_TEST_REPORTER ?? (process.stdout.isTTY ? 'spec' : 'tap');
  if (name === 'spec') {
    return Readable.from(source).pipe(new spec());
  }
  return Readable.from(name === 'dot' ? dot(source) : tap(source));
}

await pipeline(report(events()), process.stdout);

if (process.env.PARLEY_TEST_TIMES === '1') {
  const slowest = [...perFile].sort((a, b) => b[1] - a[1]).slice(0, 15);
  process.stderr.write('slowest files (the sum of their top-level tests):\n');
  for (const [file, ms] of slowest) {
    process.stderr.write(`${(ms / 1000).toFixed(1).padStart(7)} s  ${path.relative(process.cwd(), file)}\n`);
  }
}
if (failed || (totals.get('fail') ?? 0) > 0 || (totals.get('cancelled') ?? 0) > 0) {
  process.exitCode = 1;
}
