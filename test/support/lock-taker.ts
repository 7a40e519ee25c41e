import { lockDataDir } from '../../src/db/datadir-lock.ts';

/**
 * A process that tries to take a data directory's lock (test/datadir-lock.test.ts): `lock-taker.ts <dataDir>
 * <startAt ms> <holdMs>` waits until startAt (so that several start at the same moment), tries once, prints one JSON
 * line (`{"got": true}` or `{"got": false, "error": ...}`), holds what it got for holdMs, then releases it.
 */
const [dataDir, startAt = '0', holdMs = '0'] = process.argv.slice(2);
const wait = Number(startAt) - Date.now();
if (wait > 0) {
  await new Promise((resolve) => setTimeout(resolve, wait));
}
try {
  const lock = await lockDataDir(dataDir!);
  console.log(JSON.stringify({ got: true, recovered: lock.recovered?.pid ?? null }));
  await new Promise((resolve) => setTimeout(resolve, Number(holdMs)));
  lock.release();
} catch (error) {
  console.log(JSON.stringify({ got: false, error: (error as Error).message }));
}
