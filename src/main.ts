import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { watchDescriptors } from './http/descriptors.ts';
import { describeDatabase } from './runtime.ts';
import { speaksForTheCluster } from './cli/workers.ts';

/** How a process on this machine reaches a server listening on `host`: a wildcard address is reached on loopback. */
function localHost(host: string): string {
  if (host === '0.0.0.0' || host === '') {
    return '127.0.0.1';
  }
  if (host === '::') {
    return '[::1]';
  }
  return host.includes(':') ? `[${host}]` : host;
}

/** Starts the server and stops it gracefully on SIGINT/SIGTERM: no new requests, in-flight ones finish. */
export async function serve(config: Config): Promise<void> {
  const app = await buildApp(config);
  const where = describeDatabase(config.database);
  if (config.jwtSecretSource === 'generated') {
    app.log.warn(
      `JWT_SECRET is not set: generated one into ${config.dataDir}/jwt-secret (development only; ` +
        'set JWT_SECRET in production). Mint a token with: npx parley token --sub alice',
    );
  } else if (config.jwtSecretSource === 'file') {
    app.log.info(`JWT_SECRET is not set: using the one generated earlier in ${config.dataDir}/jwt-secret`);
  }
  let closing = false;
  let stopWatching = () => {};
  const shutdown = (signal: string) => {
    if (closing) {
      return;
    }
    closing = true;
    stopWatching();
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      app.log.error('shutdown took longer than 10 s; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  await app.listen({ host: config.host, port: config.port });
  stopWatching = watchDescriptors(app.server, app.log);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  // Recorded in the data directory's lock, so that `parley seed` finds the server that has the directory open.
  app.parley.store.lock?.advertise(
    `http://${localHost(typeof address === 'object' && address ? address.address : config.host)}:${port}`,
  );
  app.log.info(
    { port },
    `Parley is listening on ${config.host}:${port} with ${where}; API explorer at /docs`,
  );
  if (config.nodeEnv !== 'production' && config.host === '127.0.0.1' && speaksForTheCluster()) {
    app.log.info('only this machine can connect; set HOST=0.0.0.0 to listen on every interface');
  }
  if (config.log.format === 'pretty' && speaksForTheCluster()) {
    process.stdout.write(banner(config, `http://${localHost(config.host)}:${port}`, where));
  }
}

/** What a person at a terminal wants to know once the server is up: where to go, and how to get a token. */
function banner(config: Config, base: string, database: string): string {
  const rows: [string, string][] = [
    ['API', `${base}/v1 (every route needs a token)`],
    ['API explorer', `${base}/docs`],
  ];
  if (config.demo.enabled) {
    rows.push(['Demo page', `${base}/`]);
  }
  rows.push(['Database', database]);
  if (config.jwt.secret) {
    rows.push(['A token', 'npm run -s parley -- token --sub alice   (or npx parley token --sub alice)']);
  }
  const lines = rows.map(([name, value]) => `    ${name.padEnd(13)} ${value}`);
  return `\n  Parley is running at ${base}\n${lines.join('\n')}\n  Ctrl-C stops it.\n\n`;
}
