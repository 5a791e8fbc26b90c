import { createHash, type Hash } from 'node:crypto';
import { Transform } from 'node:stream';
import { invalid } from '../errors.ts';

/** A content digest in the form `sha256:<64 lowercase hex>`. */
export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(value: string): value is Digest {
  return DIGEST_RE.test(value);
}

export function parseDigest(value: string): Digest {
  if (!isDigest(value)) throw invalid(`invalid digest: ${JSON.stringify(value.slice(0, 100))}`);
  return value;
}

export function sha256(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The 64-hex part of a digest, used as a file name. */
export function hexOf(digest: Digest): string {
  return digest.slice(7);
}

/** The 12-character short form the CLI shows. */
export function shortId(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** Incremental sha256 that also counts bytes. */
export class Hasher {
  private readonly hash: Hash = createHash('sha256');
  size = 0;

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.size += chunk.length;
  }

  digest(): Digest {
    return `sha256:${this.hash.digest('hex')}`;
  }

  /** A pass-through stream that feeds every chunk to this hasher. */
  tap(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        this.update(chunk);
        done(null, chunk);
      },
    });
  }
}

/**
 * ChainID per the OCI image spec: ChainID(L0) = DiffID(L0); ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(Ln)).
 * Returns the chain ID of every prefix, bottom first.
 */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const diffId of diffIds) {
    const parent = out[out.length - 1];
    out.push(parent === undefined ? diffId : sha256(`${parent} ${diffId}`));
  }
  return out;
}
