import type { Readable } from 'node:stream';
import type tarStream from 'tar-stream';

export type TarHeader = Parameters<tarStream.Pack['entry']>[0];

/** Add an entry without content (directory, link, empty file) or with a small in-memory body. */
export function addEntry(pack: tarStream.Pack, header: TarHeader, body?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null) => (err ? reject(err) : resolve());
    if (body) pack.entry({ ...header, size: body.length }, body, done);
    else pack.entry(header, done);
  });
}

/**
 * Add a file entry whose content comes from a stream, honouring backpressure so a large layer never sits in
 * memory. The header's size must be exact: tar-stream fails the entry if the stream is shorter or longer.
 */
export async function addStream(pack: tarStream.Pack, header: TarHeader, content: AsyncIterable<Buffer> | Readable): Promise<void> {
  let sink!: ReturnType<tarStream.Pack['entry']>;
  const written = new Promise<void>((resolve, reject) => {
    sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
  });
  // Attach the rejection handler now: a failure while we still write must not go unhandled.
  written.catch(() => undefined);
  for await (const chunk of content) {
    if (!sink.write(chunk as Buffer)) await new Promise<void>((resolve) => sink.once('drain', () => resolve()));
  }
  sink.end(undefined);
  await written;
}
