import { Readable } from 'node:stream';
import { openMaybeGzip } from '../../archive/tar-reader.ts';

const BLOCK = 512;

/**
 * Give a build context the end Go's tar reader does not need. With `-f` outside the context, the docker CLI
 * rewrites the tar (ReplaceFileTarWrapper) and sends it without the last entry's padding and the two zero
 * blocks; Go reads an archive that stops right after an entry's data (or at a header boundary) as complete.
 * This tracks the tar framing and, only in exactly those cases, appends what is missing, so a stream cut in
 * the middle of a header or of file data still fails as truncated. Gzip is undone first (`--compress`).
 */
export function completeTarEnd(source: Readable): Readable {
  return Readable.from(
    (async function* () {
      const framing = new TarFraming();
      for await (const chunk of await openMaybeGzip(source)) {
        framing.add(chunk as Buffer);
        yield chunk as Buffer;
      }
      const end = framing.missingEnd();
      if (end) yield end;
    })(),
  );
}

/** Where the byte stream is in the tar structure: inside a header, inside an entry's data, or past the end marker. */
class TarFraming {
  private total = 0;
  private header = Buffer.alloc(0);
  /** Data bytes (and padding) of the current entry still to come. */
  private data = 0;
  private padding = 0;
  private ended = false;

  add(chunk: Buffer): void {
    this.total += chunk.length;
    let at = 0;
    while (at < chunk.length && !this.ended) {
      if (this.data > 0) {
        const n = Math.min(this.data, chunk.length - at);
        this.data -= n;
        at += n;
      } else if (this.padding > 0) {
        const n = Math.min(this.padding, chunk.length - at);
        this.padding -= n;
        at += n;
      } else {
        const n = Math.min(BLOCK - this.header.length, chunk.length - at);
        this.header = Buffer.concat([this.header, chunk.subarray(at, at + n)]);
        at += n;
        if (this.header.length === BLOCK) this.startEntry();
      }
    }
  }

  /** The bytes Go would not have needed: padding and the end marker, or nothing when the stream is cut mid-way. */
  missingEnd(): Buffer | undefined {
    if (this.ended || this.total === 0 || this.data > 0 || this.header.length > 0) return undefined;
    return Buffer.alloc(this.padding + 2 * BLOCK);
  }

  private startEntry(): void {
    const header = this.header;
    this.header = Buffer.alloc(0);
    if (header.every((b) => b === 0)) {
      this.ended = true;
      return;
    }
    const size = entrySize(header);
    this.data = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
  }
}

/** The size field (octal text, or base-256 when the high bit is set); directories and links carry 0. */
function entrySize(header: Buffer): number {
  const field = header.subarray(124, 136);
  if (field[0]! & 0x80) {
    let n = 0;
    for (const [i, b] of field.entries()) n = n * 256 + (i === 0 ? b & 0x7f : b);
    return n;
  }
  const text = field.toString('ascii').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : parseInt(text, 8) || 0;
}
