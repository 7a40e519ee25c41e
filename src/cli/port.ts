import net from 'node:net';

/**
 * Fails at once, naming the setting, when the port the server is to listen on is taken or not allowed: before the
 * database is opened and migrated, which can take a while, instead of after. A port taken between this check and the
 * server's own listen still fails there.
 */
export async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) {
    return;
  }
  const probe = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ host, port, exclusive: true }, resolve);
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new Error(
        `port ${port} on ${host} is already in use (PORT=${port}): stop what listens there, or choose another PORT`,
        { cause: error },
      );
    }
    if (code === 'EACCES') {
      throw new Error(`not allowed to listen on port ${port} (PORT): ports below 1024 need privileges`, {
        cause: error,
      });
    }
    if (code === 'EADDRNOTAVAIL') {
      throw new Error(`cannot listen on ${host} (HOST): this machine has no such address`, { cause: error });
    }
    throw error;
  } finally {
    await new Promise<void>((resolve) => (probe.listening ? probe.close(() => resolve()) : resolve()));
  }
}
