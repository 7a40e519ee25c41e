import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { SignJWT } from 'jose';
import pg from 'pg';
import { dropSourceLoopSchemas } from '../test/support/sourceloop-original.ts';
import { HISTORY, sourceloopLoads, type Load } from './dialect-loads.ts';
import { ISSUER, pool, SECRET } from './harness.ts';

/** The original's rows, the process serving them (for its CPU), and how to stop it. */
export interface OriginalSourceLoop {
  loads: Load[];
  label: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * The published @sourceloop/chat-service in a process of its own (`sourceloop-original-server.ts`), on the same
 * PostgreSQL as Parley, in tables its own migration makes: a channel of HISTORY messages written through its
 * POST /messages, another to send into, and SourceLoop's three rows against it, as one user (a UUID, as its tables
 * want) with a token it verifies. Null without DATABASE_URL: it runs on PostgreSQL only (the memory connector the
 * differential tests use is no deployment).
 */
export async function originalSourceLoop(): Promise<OriginalSourceLoop | null> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error('bench dialects: the original SourceLoop rows need DATABASE_URL (it runs on PostgreSQL)');
    return null;
  }
  const database = { url, schema: `sourceloop_bench_${randomBytes(4).toString('hex')}` };
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'sourceloop-original-server.ts')],
    {
      env: {
        ...process.env,
        DATABASE_URL: url,
        SOURCELOOP_SCHEMA: database.schema,
        JWT_SECRET: SECRET,
        JWT_ISSUER: ISSUER,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const errors: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => errors.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await dropSourceLoopSchemas(database);
  };
  try {
    const started = await new Promise<{ url: string; version: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer in 60 s:\n${errors.join('')}`)), 60_000);
      child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${errors.join('')}`)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (line.startsWith('{')) {
          clearTimeout(timer);
          resolve(JSON.parse(line) as { url: string; version: string });
        }
      });
    });
    const user = randomUUID();
    const token = await new SignJWT({ id: user, permissions: ['ViewMessage', 'CreateMessage'] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(user)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime('2h')
      .sign(new TextEncoder().encode(SECRET));
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const [read, send] = [randomUUID(), randomUUID()];
    await pool(
      Array.from({ length: HISTORY }, (_, i) => i),
      20,
      async (i) => {
        const res = await fetch(`${started.url}/messages`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ body: `history ${i}`, channelId: read, channelType: 'group' }),
        });
        if (res.status !== 200) {
          throw new Error(`seeding the original: ${res.status} ${await res.text()}`);
        }
      },
    );
    // Statistics of what was written, as autovacuum would gather them (Parley's tables get the same).
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`analyze "${database.schema}".messages`);
    } finally {
      await client.end();
    }
    const label = `original ${started.version}`;
    return {
      loads: sourceloopLoads(label, started.url, { authorization: headers.authorization }, { send, read }),
      label,
      pid: child.pid!,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
