import os from 'node:os';
import { baseline } from './http.ts';
import { avito, drf, HISTORY, instabug, nativeAndSourceLoop, run, type Load } from './dialect-loads.ts';
import { cpuMeter, machine, processCpuMeter, startBenchServer, table, type CpuMeter } from './harness.ts';
import { originalSourceLoop } from './sourceloop-original.ts';

/**
 * The dialects' hot routes next to their native equivalents: each dialect's send and list/history (and SourceLoop's
 * count), against one Parley process, with the CPU each request costs the server and its database (the Parley
 * process, plus the PostgreSQL backends serving it). "× native" is that CPU over the native row's it stands for;
 * "× baseline" is req/s over the Fastify hello route of the same run. On PostgreSQL, SourceLoop's rows also run
 * against the published @sourceloop/chat-service on the same database (`sourceloop-original.ts`), metered the same
 * way. Every row runs once per round, the rounds one after the other, so that a busy moment of a shared machine
 * falls on all rows alike; a row's figures are the medians of its rounds, with the spread of its CPU per request.
 */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const WARMUP_SECONDS = 1;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

/** One run of one row. */
interface Run {
  reqs: number;
  p99: number;
  /** CPU ms per request, server and database, and of which the database's. */
  cpu: number;
  db: number;
  errors: number;
}

/** The most database backends metered for a row (0 on PGlite, where the database is the Parley process). */
let metered = 0;

async function measure(load: Load, meter: CpuMeter): Promise<Run> {
  await run(load, WARMUP_SECONDS);
  metered = Math.max(metered, await meter.backends());
  const stop = meter.start();
  const result = await run(load, SECONDS);
  const spent = stop();
  const per = (seconds: number) => (seconds * 1000) / Math.max(1, result.requests.total);
  return {
    reqs: result.requests.average,
    p99: result.latency.p99,
    cpu: per(spent.server + spent.database),
    db: per(spent.database),
    errors: result.errors + result.non2xx + result.timeouts,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const ms = (value: number) => value.toFixed(2);
const spread = (values: number[]) =>
  values.length > 1 ? `${ms(Math.min(...values))}–${ms(Math.max(...values))}` : ms(values[0]!);

/** Which dialects to run: BENCH_DIALECTS=sourceloop,avito (default all four). */
function chosen(): string[] {
  const all = ['sourceloop', 'avito', 'drf', 'instabug'];
  const wanted = process.env.BENCH_DIALECTS?.split(',').map((s) => s.trim().toLowerCase());
  return wanted ? all.filter((d) => wanted.includes(d)) : all;
}

export async function dialects(): Promise<void> {
  const baselineRow = await baseline();
  const which = chosen();
  const bench = await startBenchServer({ DIALECTS: 'avito,drf,instabug,sourceloop' });
  let original: Awaited<ReturnType<typeof originalSourceLoop>> = null;
  const runs = new Map<string, Run[]>();
  const loads: { load: Load; meter: CpuMeter }[] = [];
  let loadBefore = '';
  try {
    const base = bench.server.url;
    const parley = cpuMeter(bench);
    const [nativeSend, nativeHistory, ...sourceloop] = await nativeAndSourceLoop(bench);
    const rows = [nativeSend!, nativeHistory!];
    if (which.includes('sourceloop')) {
      rows.push(...sourceloop);
    }
    if (which.includes('avito')) {
      rows.push(...(await avito(base)));
    }
    if (which.includes('drf')) {
      rows.push(...(await drf(base)));
    }
    if (which.includes('instabug')) {
      rows.push(...(await instabug(base)));
    }
    loads.push(...rows.map((row) => ({ load: row, meter: parley })));
    await bench.analyze();
    original = which.includes('sourceloop') ? await originalSourceLoop() : null;
    if (original) {
      const meter = processCpuMeter(original.pid);
      loads.push(...original.loads.map((row) => ({ load: row, meter })));
    }
    loadBefore = loadAverage();
    for (let round = 1; round <= ROUNDS; round++) {
      console.error(`bench dialects: round ${round} of ${ROUNDS}`);
      for (const { load, meter } of loads) {
        runs.set(load.name, [...(runs.get(load.name) ?? []), await measure(load, meter)]);
      }
    }
  } finally {
    await original?.stop();
    await bench.stop();
  }
  report(
    loads.map((l) => l.load),
    runs,
    {
      reference: baselineRow['req/s'],
      engine: bench.engine,
      load: `${loadBefore} before, ${loadAverage()} after`,
      originalLabel: original?.label,
    },
  );
}

function report(
  loads: Load[],
  runs: Map<string, Run[]>,
  run: { reference: number; engine: string; load: string; originalLabel: string | undefined },
): void {
  const { reference, engine, originalLabel } = run;
  const of = (name: string) => runs.get(name) ?? [];
  /** A row's CPU over `other`'s, round by round (the same moment of the machine), and their median. */
  const ratio = (name: string, other: string) => {
    const [mine, theirs] = [of(name), of(other)];
    return median(mine.map((r, i) => r.cpu / (theirs[i]?.cpu ?? Number.NaN)));
  };
  console.log(
    `\nDialects on ${engine}, ${CONNECTIONS} connections, ${ROUNDS} round(s) of ${SECONDS} s per row after ` +
      `${WARMUP_SECONDS} s of warm-up (${machine()}; load average ${run.load}); CPU = the server process and ` +
      `its ${metered} database backends, per request, median of the rounds (spread: lowest–highest); ` +
      `"× native" = CPU ÷ the native row's of the same round (median); "× baseline" = req/s ÷ the Fastify hello ` +
      `route's (${reference} req/s)`,
  );
  table(
    loads.map((load) => {
      const r = of(load.name);
      const cpu = r.map((x) => x.cpu);
      return {
        scenario: load.name,
        'req/s': Math.round(median(r.map((x) => x.reqs))),
        'p99 ms': median(r.map((x) => x.p99)),
        'CPU ms/req': ms(median(cpu)),
        spread: spread(cpu),
        'of which db': process.env.DATABASE_URL ? ms(median(r.map((x) => x.db))) : '–',
        errors: r.reduce((sum, x) => sum + x.errors, 0),
        '× native': load.native ? ms(ratio(load.name, load.native)) : '–',
        '× baseline': (median(r.map((x) => x.reqs)) / reference).toFixed(2),
      };
    }),
  );
  if (!originalLabel) {
    return;
  }
  // Each of Parley's SourceLoop rows against the same row on the original: throughput, and CPU per request.
  const pairs = loads
    .filter((l) => l.name.startsWith('SourceLoop: '))
    .map((l) => [l.name, `${originalLabel}: ${l.name.slice('SourceLoop: '.length)}`] as const)
    .filter(([, theirs]) => runs.has(theirs));
  console.log(
    `\nSourceLoop on Parley against @sourceloop/chat-service (${originalLabel.replace('original ', '')}) on the same ` +
      `PostgreSQL, ${HISTORY} messages in the channel read: "× original" = Parley's req/s ÷ the original's, and the ` +
      `original's CPU per request ÷ Parley's (medians of the rounds' ratios)`,
  );
  table(
    pairs.map(([mine, theirs]) => {
      const [a, b] = [of(mine), of(theirs)];
      return {
        route: mine.slice('SourceLoop: '.length),
        'Parley req/s': Math.round(median(a.map((x) => x.reqs))),
        'original req/s': Math.round(median(b.map((x) => x.reqs))),
        'req/s × original': median(a.map((x, i) => x.reqs / (b[i]?.reqs ?? Number.NaN))).toFixed(1),
        'Parley CPU ms/req': ms(median(a.map((x) => x.cpu))),
        'original CPU ms/req': ms(median(b.map((x) => x.cpu))),
        'CPU × original': median(b.map((x, i) => x.cpu / (a[i]?.cpu ?? Number.NaN))).toFixed(1),
      };
    }),
  );
}

/** The machine's load average over the last 1, 5 and 15 minutes. */
function loadAverage(): string {
  return os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ');
}
