import { sourceLoopOriginalVersion, startSourceLoopOriginal } from '../test/support/sourceloop-original.ts';

/**
 * The published @sourceloop/chat-service as a server process of its own, for the dialects benchmark
 * (`bench/dialects.ts` starts it): on the PostgreSQL of DATABASE_URL, in the schema SOURCELOOP_SCHEMA (made by the
 * package's own migration; the parent drops it), verifying tokens with JWT_SECRET and JWT_ISSUER. Writes one JSON
 * line, `{"url", "version"}`, once it listens; stops on SIGTERM.
 */
const url = process.env.DATABASE_URL;
const schema = process.env.SOURCELOOP_SCHEMA;
const [secret, issuer] = [process.env.JWT_SECRET, process.env.JWT_ISSUER];
if (!url || !schema || !secret || !issuer) {
  throw new Error('DATABASE_URL, SOURCELOOP_SCHEMA, JWT_SECRET and JWT_ISSUER are needed');
}
const original = await startSourceLoopOriginal({ secret, issuer, database: { url, schema } });
console.log(JSON.stringify({ url: original.url, version: sourceLoopOriginalVersion() }));
process.once('SIGTERM', () => {
  void original.stop().finally(() => process.exit(0));
});
