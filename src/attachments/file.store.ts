import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Content written to the store's staging area, not yet under its content key. */
export interface Staged {
  sha256: string;
  size: number;
  /** Moves the content under its key; false when the same content was there already (the staged copy is dropped). */
  commit(): Promise<boolean>;
  /** Drops the staged copy. */
  discard(): Promise<void>;
}

/**
 * Where file contents live, by the SHA-256 of their bytes (docs/files.md; docs/architecture.md says how an
 * S3-compatible store plugs in). An upload is staged (streamed, hashed as it goes), then committed under its key;
 * a stream that fails leaves nothing behind.
 */
export interface FileStore {
  readonly kind: string;
  /**
   * Streams `source` into the staging area, hashing it. `watch` sees every chunk as it passes and may throw to stop
   * the upload (a refused type, a size over the limit): the staged copy is then removed and the error rethrown.
   */
  stage(source: Readable, watch: (chunk: Buffer) => void): Promise<Staged>;
  /** The content under `sha256`, or null when the store has none. */
  open(sha256: string): Promise<{ stream: Readable; size: number } | null>;
  /** Removes the content under `sha256` (nothing when there is none). */
  remove(sha256: string): Promise<void>;
  /** Releases what the store holds open (a temporary directory it owns is removed). */
  close(): Promise<void>;
}

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * The default store: a directory on the local disk (`PARLEY_FILES_DIR`, by default `files` under the data
 * directory). Contents are `blobs/<2 hex>/<sha256>`; uploads are written to `tmp/` and renamed into place, so a
 * content file is always whole. Leftovers of a crash in `tmp/` are removed at start.
 */
export class LocalFileStore implements FileStore {
  readonly kind = 'local';

  private constructor(
    readonly dir: string,
    private readonly owned: boolean,
  ) {}

  /** The store in `dir`; with null, in a temporary directory of its own (removed on close). */
  static async open(dir: string | null): Promise<LocalFileStore> {
    const root = dir ?? (await mkdtemp(path.join(tmpdir(), 'parley-files-')));
    const store = new LocalFileStore(root, dir === null);
    await rm(store.tmpDir, { recursive: true, force: true });
    await mkdir(store.tmpDir, { recursive: true });
    await mkdir(path.join(root, 'blobs'), { recursive: true });
    return store;
  }

  get tmpDir(): string {
    return path.join(this.dir, 'tmp');
  }

  private blobPath(sha256: string): string {
    if (!SHA256.test(sha256)) {
      throw new Error(`not a SHA-256: ${sha256}`);
    }
    return path.join(this.dir, 'blobs', sha256.slice(0, 2), sha256);
  }

  async stage(source: Readable, watch: (chunk: Buffer) => void): Promise<Staged> {
    const temp = path.join(this.tmpDir, `${randomBytes(12).toString('hex')}.part`);
    const hash = createHash('sha256');
    let size = 0;
    const counting = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        try {
          watch(chunk);
        } catch (error) {
          done(error as Error);
          return;
        }
        size += chunk.length;
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, counting, createWriteStream(temp, { flags: 'wx' }));
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    const sha256 = hash.digest('hex');
    const target = this.blobPath(sha256);
    return {
      sha256,
      size,
      commit: async () => {
        const existing = await stat(target).catch(() => null);
        if (existing?.isFile() && existing.size === size) {
          await rm(temp, { force: true });
          return false;
        }
        await mkdir(path.dirname(target), { recursive: true });
        await rename(temp, target);
        return true;
      },
      discard: () => rm(temp, { force: true }),
    };
  }

  async open(sha256: string): Promise<{ stream: Readable; size: number } | null> {
    const file = this.blobPath(sha256);
    const found = await stat(file).catch(() => null);
    if (!found?.isFile()) {
      return null;
    }
    return { stream: createReadStream(file), size: found.size };
  }

  async remove(sha256: string): Promise<void> {
    await unlink(this.blobPath(sha256)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') {
        throw error;
      }
    });
  }

  /** Files in the staging area (uploads under way, or left by a crash): what a test checks is empty. */
  async staged(): Promise<string[]> {
    return readdir(this.tmpDir);
  }

  async close(): Promise<void> {
    if (this.owned) {
      await rm(this.dir, { recursive: true, force: true });
    }
  }
}
