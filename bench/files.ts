import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, openAsBlob, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ParleyClient } from '../packages/client/src/index.ts';
import { machine, startBenchServer, table } from './harness.ts';

/** A number from the environment, kept within bounds. */
function setting(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw.trim() === '' ? fallback : Number(raw);
  if (!Number.isFinite(value)) {
    throw new Error(`${name}: must be a number, got "${raw}"`);
  }
  return Math.min(max, Math.max(min, value));
}

const MB = setting('BENCH_FILE_MB', 50, 1, 2048);
const ROUNDS = Math.round(setting('BENCH_ROUNDS', 3, 1, 20));

/** A file of `mb` MiB of random bytes on disk, written a MiB at a time. */
async function randomFile(dir: string, name: string, mb: number): Promise<string> {
  const file = path.join(dir, name);
  const out = createWriteStream(file);
  for (let i = 0; i < mb; i++) {
    if (!out.write(randomBytes(1024 * 1024))) {
      await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
  return file;
}

/** Samples `read` every 20 ms until stopped; the highest value seen. */
function peakOf(read: () => number): { stop(): number } {
  let peak = read();
  const timer = setInterval(() => {
    peak = Math.max(peak, read());
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, read());
    },
  };
}

/**
 * Uploads of a BENCH_FILE_MB (50) MiB file through the typed client (a streamed multipart body read from disk),
 * BENCH_ROUNDS (3) of new content and one of content already stored, each followed by its download through the
 * signed link; the server's RSS before, at its peak during, and after each.
 */
export async function files(): Promise<void> {
  const bench = await startBenchServer({ PARLEY_FILES_MAX_MB: String(MB + 1) });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-bench-files-'));
  try {
    const base = bench.server.url;
    const client = new ParleyClient({ baseUrl: base, token: await bench.token('bench-files') });
    await client.me();
    const chat = await client.createChat({ kind: 'group', name: 'bench files' });
    const rows: Record<string, string | number>[] = [];
    const names: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      names.push(await randomFile(dir, `round-${round}.bin`, MB));
    }
    names.push(names[0]!);
    for (const [index, file] of names.entries()) {
      const blob = await openAsBlob(file);
      const before = bench.rssMiB();
      const watch = peakOf(() => bench.rssMiB());
      const started = performance.now();
      const view = await client.uploadFile(chat.id, blob, { name: path.basename(file) });
      const seconds = (performance.now() - started) / 1000;
      const peak = watch.stop();
      const downloadWatch = peakOf(() => bench.rssMiB());
      const downloadStarted = performance.now();
      const response = await fetch(client.fileUrl(view));
      let received = 0;
      for await (const chunk of response.body!) {
        received += (chunk as Uint8Array).byteLength;
      }
      const downloadSeconds = (performance.now() - downloadStarted) / 1000;
      const downloadPeak = downloadWatch.stop();
      if (received !== view.size) {
        throw new Error(`downloaded ${received} of ${view.size} bytes`);
      }
      rows.push({
        upload: index < ROUNDS ? `new content ${index + 1}` : 'stored already',
        'MiB/s up': (MB / seconds).toFixed(1),
        'up s': seconds.toFixed(2),
        'RSS before MiB': before,
        'RSS peak up MiB': peak,
        'MiB/s down': (MB / downloadSeconds).toFixed(1),
        'RSS peak down MiB': downloadPeak,
        'RSS after MiB': bench.rssMiB(),
      });
    }
    console.log(`\nfiles: ${MB} MiB uploads and downloads, ${bench.engine}, ${machine()}`);
    table(rows);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await bench.stop();
  }
}
