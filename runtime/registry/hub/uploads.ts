import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EngineError } from '../../errors.ts';
import type { BlobStore } from '../../store/blob-store.ts';
import type { Digest } from '../../util/digest.ts';
import { KeyedMutex } from '../../util/locks.ts';
import { RegistryError } from '../distribution.ts';

interface Session {
  repo: string;
  file: string;
  size: number;
  touched: number;
}

const MAX_SESSIONS = 64;
const SESSION_TTL_MS = 30 * 60 * 1000;

/**
 * Blob upload sessions: each a file under the store's scratch dir (emptied at every start), appended to by
 * PATCH and PUT, hashed into the blob store only when the client names the digest. A session belongs to
 * the repository it was opened on; the number of open sessions and each blob's size are capped.
 */
export class Uploads {
  private readonly sessions = new Map<string, Session>();
  private readonly mutex = new KeyedMutex();

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  async init(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  async open(repo: string): Promise<string> {
    await this.expire();
    if (this.sessions.size >= MAX_SESSIONS) throw new RegistryError('BLOB_UPLOAD_INVALID', null, 'too many uploads in progress', 429);
    const uuid = randomUUID();
    const file = path.join(this.dir, uuid);
    await fs.writeFile(file, '', { mode: 0o600, flag: 'wx' });
    this.sessions.set(uuid, { repo, file, size: 0, touched: Date.now() });
    return uuid;
  }

  /** Current size of a session, or BLOB_UPLOAD_UNKNOWN. */
  size(repo: string, uuid: string): number {
    return this.get(repo, uuid).size;
  }

  /**
   * Append a request body. `start` (from Content-Range) must equal the current size: chunks arrive in
   * order or not at all (416, as the OCI spec and distribution v3 require).
   */
  append(repo: string, uuid: string, body: IncomingMessage, start?: number): Promise<number> {
    return this.mutex.run(uuid, async () => {
      const session = this.get(repo, uuid);
      if (start !== undefined && start !== session.size) throw new RegistryError('RANGE_INVALID', null, `upload is at offset ${session.size}, chunk starts at ${start}`);
      let size = session.size;
      const limit = this.maxBytes;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          size += chunk.length;
          if (size > limit) done(new RegistryError('SIZE_INVALID', null, `blob exceeds the hub's limit of ${limit} bytes`, 413));
          else done(null, chunk);
        },
      });
      // Through a PassThrough: a failed pipeline must not destroy the request, whose socket carries our answer.
      const source = new PassThrough();
      body.pipe(source);
      try {
        await pipeline(source, meter, createWriteStream(session.file, { flags: 'a' }));
      } catch (err) {
        body.unpipe(source);
        // A failed chunk poisons the session: partial bytes of it may be in the file.
        await this.drop(uuid);
        throw err;
      }
      session.size = size;
      session.touched = Date.now();
      return size;
    });
  }

  /** Move a finished upload into the blob store, checking it hashes to `digest`; the session ends either way. */
  finish(repo: string, uuid: string, digest: Digest, blobs: BlobStore): Promise<number> {
    return this.mutex.run(uuid, async () => {
      const session = this.get(repo, uuid);
      try {
        const put = await blobs.putStream(createReadStream(session.file), { expected: digest, maxBytes: this.maxBytes });
        return put.size;
      } catch (err) {
        if (err instanceof EngineError && err.message.startsWith('digest mismatch')) throw new RegistryError('DIGEST_INVALID', { Digest: digest, Reason: {} });
        throw err;
      } finally {
        await this.drop(uuid);
      }
    });
  }

  async cancel(repo: string, uuid: string): Promise<void> {
    this.get(repo, uuid);
    await this.mutex.run(uuid, () => this.drop(uuid));
  }

  private get(repo: string, uuid: string): Session {
    const session = this.sessions.get(uuid);
    if (!session || session.repo !== repo) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', null);
    return session;
  }

  private async drop(uuid: string): Promise<void> {
    const session = this.sessions.get(uuid);
    this.sessions.delete(uuid);
    if (session) await fs.rm(session.file, { force: true });
  }

  private async expire(): Promise<void> {
    const cutoff = Date.now() - SESSION_TTL_MS;
    for (const [uuid, s] of this.sessions) if (s.touched < cutoff) await this.drop(uuid);
  }
}
