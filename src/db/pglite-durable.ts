import { close, closeSync, fdatasync, fdatasyncSync, fsyncSync, open, openSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { NodeFS } from '@electric-sql/pglite/nodefs';

/**
 * Durable commits on the embedded database (PARLEY_DURABLE).
 *
 * PGlite starts PostgreSQL with fsync off (`-F`), and the file system it mounts for Node writes through to the data
 * directory's files but has no fsync: PostgreSQL's own fsync calls would reach nothing. A commit is then in the
 * operating system's cache when it is answered, which survives a killed process but not a power cut or a kernel
 * crash.
 *
 * Durable, the WAL PostgreSQL writes is synced to the disk before any answer leaves PGlite: PGlite calls its file
 * system's `syncToFs` after every protocol message and waits for it (unless `relaxedDurability`), and here that
 * syncs (fdatasync, off the event loop) every WAL file written since the last time. A batch of sends is one
 * transaction, so one sync covers the whole group commit, and the server keeps taking requests meanwhile.
 *
 * PostgreSQL runs with fsync on, so that it syncs its data files, pg_control and directories at checkpoints and
 * wherever else it relies on them being on the disk; those syncs are real and immediate. Its fsync of a WAL file is
 * left to the next sync point, which comes before anything else can depend on it: before any change to a file that
 * is not WAL (a data page written out, a file created, renamed, truncated or removed), the WAL written so far is
 * synced first, so the rule PostgreSQL keeps (the WAL describing a change is on the disk before the change itself)
 * holds, more strictly than it asks. A failed sync fails the request that waited for it and every later one: the
 * process must restart and recover from what is on the disk, as PostgreSQL itself does after a failed fsync.
 */

/** Emscripten's file system node, as its Node file system (NODEFS) shares it between calls. */
interface FsNode {
  name: string;
}

interface FsStream {
  nfd: number;
  node: FsNode;
}

type Op = (...args: never[]) => unknown;

/** The part of the Emscripten module this wraps: its Node file system's operations, shared by every file. */
interface EmscriptenModule {
  FS: { ErrnoError: new (errno: number) => Error };
  NODEFS: {
    realPath(node: FsNode): string;
    node_ops: Record<string, Op>;
    stream_ops: Record<string, Op>;
  };
}

/** Emscripten's number for EIO: what PostgreSQL is told when its data cannot be made durable. */
const EIO = 29;

/** What PostgreSQL is started with: PGlite's own parameters with fsync turned back on. */
export function durableStartParams(defaults: readonly string[]): string[] {
  return [...defaults.filter((param) => param !== '-F'), '-c', 'fsync=on', '-c', 'wal_sync_method=fsync'];
}

function syncFileAsync(file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    open(file, 'r', (openError, fd) => {
      if (openError) {
        // Recycled or removed since it was written: nothing of it is left to sync.
        return openError.code === 'ENOENT' ? resolve() : reject(openError);
      }
      fdatasync(fd, (syncError) => {
        close(fd, () => (syncError ? reject(syncError) : resolve()));
      });
    });
  });
}

function syncFile(file: string, what: 'data' | 'all'): void {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return;
    }
    throw error;
  }
  try {
    (what === 'data' ? fdatasyncSync : fsyncSync)(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The WAL files written and not yet synced, and the two ways of syncing them: at once (`now`, the event loop
 * waits), or off the event loop (`flush`), one sync at a time, each covering every WAL write made before it started.
 */
class WalTracker {
  /** WAL writes (and PostgreSQL's requests to sync a WAL file) so far. */
  private writes = 0;
  /** Every WAL write up to this count is on the disk. */
  private synced = 0;
  /** Each WAL file written since its last sync, with the count at its latest write. */
  private readonly pending = new Map<FsNode, number>();
  private running: Promise<void> | null = null;
  private failure: Error | null = null;

  constructor(private readonly realPath: (node: FsNode) => string) {}

  written(node: FsNode): void {
    this.writes += 1;
    this.pending.set(node, this.writes);
  }

  private check(): void {
    if (this.failure) {
      throw new Error(
        'a sync of the WAL failed, so nothing more can be written safely: restart the process',
        {
          cause: this.failure,
        },
      );
    }
  }

  now(): void {
    this.check();
    if (this.synced === this.writes) {
      return;
    }
    try {
      for (const node of this.pending.keys()) {
        syncFile(this.realPath(node), 'data');
      }
    } catch (error) {
      this.failure = error as Error;
      this.check();
    }
    this.pending.clear();
    this.synced = this.writes;
  }

  /** Resolves once every WAL write made so far is on the disk; rejects if a sync failed. */
  async flush(): Promise<void> {
    const target = this.writes;
    while (this.synced < target) {
      this.check();
      // A sync that started before the last of these writes may not cover it: wait for it, then start another.
      this.running ??= this.run();
      await this.running;
    }
    this.check();
  }

  private async run(): Promise<void> {
    const target = this.writes;
    const files = [...this.pending];
    try {
      await Promise.all(files.map(([node]) => syncFileAsync(this.realPath(node))));
      this.synced = Math.max(this.synced, target);
      for (const [node, last] of files) {
        if (this.pending.get(node) === last) {
          this.pending.delete(node);
        }
      }
    } catch (error) {
      this.failure ??= error as Error;
    } finally {
      this.running = null;
    }
  }
}

/**
 * Wraps the Node file system's operations: WAL writes are recorded, and every operation that changes something
 * else syncs the WAL first. `walDir` is the data directory's pg_wal, as the file system names it on the host.
 */
function install(mod: EmscriptenModule, walDir: string): WalTracker {
  const { NODEFS, FS } = mod;
  const realPath = (node: FsNode) => NODEFS.realPath(node);
  const wal = new WalTracker(realPath);
  // Whether a file is WAL, by node: asked on every write, so worked out once per file (a rename may change it).
  const walNodes = new WeakMap<FsNode, boolean>();
  const inWal = (node: FsNode) => {
    let known = walNodes.get(node);
    if (known === undefined) {
      known = realPath(node).startsWith(walDir + path.sep);
      walNodes.set(node, known);
    }
    return known;
  };
  // PostgreSQL hears of a failure as EIO, as from a disk: it stops rather than carry on without its data there.
  const syncWal = () => {
    try {
      wal.now();
    } catch {
      throw new FS.ErrnoError(EIO);
    }
  };
  const wrap = (ops: Record<string, Op>, name: string, before: (...args: never[]) => void) => {
    const original = ops[name];
    if (original) {
      ops[name] = (...args: never[]) => {
        before(...args);
        return original(...args);
      };
    }
  };
  // A new entry, a removed one, changed attributes (truncation): on the disk only after the WAL that led to them.
  for (const name of ['mknod', 'unlink', 'rmdir', 'symlink']) {
    wrap(NODEFS.node_ops, name, (parent: FsNode) => {
      if (realPath(parent) !== walDir) {
        syncWal();
      }
    });
  }
  wrap(NODEFS.node_ops, 'rename', (node: FsNode) => {
    if (!inWal(node)) {
      syncWal();
    }
    walNodes.delete(node);
  });
  wrap(NODEFS.node_ops, 'setattr', (node: FsNode) => {
    if (!inWal(node)) {
      syncWal();
    }
  });
  for (const name of ['setattr', 'write', 'msync']) {
    wrap(NODEFS.stream_ops, name, (stream: FsStream) => {
      if (inWal(stream.node)) {
        wal.written(stream.node);
      } else {
        syncWal();
      }
    });
  }
  NODEFS.stream_ops.fsync = ((stream: FsStream) => {
    if (inWal(stream.node)) {
      // Left to the next sync point, which comes before the answer and before anything that depends on it.
      wal.written(stream.node);
      return 0;
    }
    syncWal();
    fsyncSync(stream.nfd);
    return 0;
  }) as Op;
  return wal;
}

type Init = NodeFS['init'];

/**
 * PGlite's Node file system, made durable as described above. Loaded when asked for, like PGlite itself: a server on
 * PostgreSQL never loads it.
 */
export async function durableNodeFS(dataDir: string): Promise<NodeFS> {
  const { NodeFS } = await import('@electric-sql/pglite/nodefs');
  // NodeFS mounts the directory as resolved: the paths its operations see start with this.
  const walDir = path.join(path.resolve(dataDir), 'pg_wal');
  let wal: WalTracker | null = null;
  class DurableNodeFS extends NodeFS {
    override async init(pg: Parameters<Init>[0], options: Parameters<Init>[1]): ReturnType<Init> {
      const result = await super.init(pg, options);
      result.emscriptenOpts.preRun = [
        ...(result.emscriptenOpts.preRun ?? []),
        (mod) => {
          wal = install(mod as unknown as EmscriptenModule, walDir);
        },
      ];
      return result;
    }

    /** PGlite's sync point, after every protocol message; it waits for it before it answers. */
    override async syncToFs(): Promise<void> {
      await wal?.flush();
    }

    override async closeFs(): Promise<void> {
      wal?.now();
      await super.closeFs();
    }
  }
  return new DurableNodeFS(dataDir);
}

/**
 * Syncs every file and directory under `root` to the disk: a data directory PGlite has just made, whose files it
 * wrote from a template rather than through PostgreSQL, which syncs only what it writes itself.
 */
export function syncTree(root: string): number {
  let synced = 0;
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        visit(full);
      } else if (entry.isFile()) {
        syncFile(full, 'all');
        synced += 1;
      }
    }
    syncFile(dir, 'all');
    synced += 1;
  };
  visit(root);
  syncFile(path.dirname(root), 'all');
  return synced;
}
