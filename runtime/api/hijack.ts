import type { Duplex } from 'node:stream';

/** Stream types of Docker's multiplexed (stdcopy) framing. */
export enum StreamType {
  Stdin = 0,
  Stdout = 1,
  Stderr = 2,
  SystemErr = 3,
}

/**
 * One stdcopy frame: 8-byte header (type, three zero bytes, big-endian payload length) + payload. Used when
 * the container has no TTY; with a TTY the raw pty bytes go out unframed.
 */
export function frame(type: StreamType, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/**
 * Answer a hijacked attach/exec request with 101 and the raw-stream content type. With API 1.41 the type is
 * always `raw-stream`, even for multiplexed output; the CLI frames by the container's (or exec's) Tty.
 * Exec start also carries the usual engine headers, attach does not (what dockerd sends).
 */
export function acceptHijack(socket: Duplex, extraHeaders: Record<string, string> = {}): void {
  const lines = [
    'HTTP/1.1 101 UPGRADED',
    'Content-Type: application/vnd.docker.raw-stream',
    'Connection: Upgrade',
    'Upgrade: tcp',
    ...Object.entries(extraHeaders).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
}
