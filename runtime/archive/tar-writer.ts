import type { Readable } from 'node:stream';
import type tarStream from 'tar-stream';
import { EngineError, invalid } from '../errors.ts';

export type TarHeader = Parameters<tarStream.Pack['entry']>[0];

/** Add an entry without content (directory, link, empty file) or with a small in-memory body. */
export function addEntry(pack: tarStream.Pack, header: TarHeader, body?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null) => (err ? reject(err) : resolve());
    const sink = body ? pack.entry({ ...header, size: body.length }, body, done) : pack.entry(header, done);
    sink.on('error', () => undefined); // reported through `done`
  });
}

/**
 * Add a file entry whose content comes from a stream, honouring backpressure so a large layer never sits in
 * memory. The header's size must be exact: tar-stream fails the entry if the stream is shorter or longer.
 */
export async function addStream(pack: tarStream.Pack, header: TarHeader, content: AsyncIterable<Buffer> | Readable): Promise<void> {
  if (pack.destroyed) throw new Error('the archive was closed');
  let sink!: ReturnType<tarStream.Pack['entry']>;
  const written = new Promise<void>((resolve, reject) => {
    sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
  });
  // The failure reaches us through `written`; the entry's own 'error' event must not go unhandled (it would
  // crash the engine when the pack is destroyed mid-entry, e.g. by a gzip bomb hitting the byte limit).
  written.catch(() => undefined);
  sink.on('error', () => undefined);
  for await (const chunk of content) {
    // The pack was destroyed (the reader went away): stop reading the source instead of waiting forever.
    if (sink.destroyed) break;
    if (!sink.write(chunk as Buffer)) await drainOrClose(sink);
  }
  sink.end(undefined);
  await written;
}

function drainOrClose(sink: ReturnType<tarStream.Pack['entry']>): Promise<void> {
  if (sink.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      sink.off('drain', done);
      sink.off('close', done);
      resolve();
    };
    sink.on('drain', done);
    sink.on('close', done);
  });
}

/**
 * The body of an entry from readSafeTar, with a read failure (a truncated archive ends inside a file)
 * reported as what it is: the same message the reader gives for a malformed archive.
 */
export async function* entryBody(body: AsyncIterable<Buffer>, label: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of body) yield chunk;
  } catch (err) {
    if (err instanceof EngineError) throw err;
    throw invalid(`${label} is not a valid tar archive: ${(err as Error).message}`, err);
  }
}
