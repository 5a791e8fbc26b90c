import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { MAX_MESSAGE_BYTES, type ClientMessage, type ServerMessage } from '../protocol.ts';
import type { Sandbox } from '../sandbox/sandbox.ts';

const HEARTBEAT_MS = 20_000;
/** A tab that cannot keep up with the terminal (output queued past this) is dropped; it reconnects and replays. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const MAX_TERMINAL_SIZE = 1000;

/**
 * The terminal WebSocket: one per browser tab, JSON text frames (protocol.ts). Frames are capped at
 * MAX_MESSAGE_BYTES (ws would take 100 MiB), dead peers are found by ping/pong, and a tab that stops reading
 * is disconnected instead of growing the server's memory.
 */
export class TerminalSockets {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
  private readonly alive = new WeakMap<WebSocket, boolean>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor() {
    this.heartbeat = setInterval(() => this.checkPeers(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Complete an upgrade already authorized by the caller, and attach the tab to the sandbox. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, sandbox: Sandbox): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws, sandbox));
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }

  private connected(ws: WebSocket, sandbox: Sandbox): void {
    this.alive.set(ws, true);
    ws.on('pong', () => this.alive.set(ws, true));
    const send = (message: ServerMessage) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        ws.close(1013, 'the terminal output is arriving faster than this tab reads it; reconnect');
        return;
      }
      ws.send(JSON.stringify(message));
    };
    const detach = sandbox.attach({ send, close: () => ws.close(4000, 'sandbox ended') });
    ws.on('close', detach);
    ws.on('error', () => ws.terminate());
    ws.on('message', (data, isBinary) => {
      const message = isBinary ? undefined : parseMessage(data);
      if (!message) {
        send({ type: 'error', message: 'malformed message' });
        return;
      }
      handle(sandbox, message);
    });
  }

  private checkPeers(): void {
    for (const ws of this.wss.clients) {
      if (!this.alive.get(ws)) {
        ws.terminate();
        continue;
      }
      this.alive.set(ws, false);
      ws.ping();
    }
  }
}

function handle(sandbox: Sandbox, message: ClientMessage): void {
  switch (message.type) {
    case 'input':
      sandbox.touch();
      sandbox.shell.input(message.data);
      break;
    case 'resize':
      sandbox.shell.resize(message.cols, message.rows);
      break;
    case 'activity':
      sandbox.touch();
      break;
  }
}

/** A client message, checked field by field; anything else is undefined. */
export function parseMessage(data: RawData): ClientMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data.toString());
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Record<string, unknown>;
  if (m.type === 'input' && typeof m.data === 'string') return { type: 'input', data: m.data };
  if (m.type === 'activity') return { type: 'activity' };
  if (m.type === 'resize' && isSize(m.cols) && isSize(m.rows)) return { type: 'resize', cols: m.cols, rows: m.rows };
  return undefined;
}

function isSize(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) >= 1 && (n as number) <= MAX_TERMINAL_SIZE;
}
