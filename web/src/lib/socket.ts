/** The WebSocket client for /api/ws: typed messages, reconnect with backoff until the sandbox ends. */
import type { ClientMessage, ServerMessage } from '../../../server/protocol.ts';

/** connecting: first attempt; open; reconnecting: lost and retrying; stopped: no more attempts. */
export type SocketState = 'connecting' | 'open' | 'reconnecting' | 'stopped';

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;

/** One WebSocket to the sandbox's shell and events, re-opened whenever it drops (until `stop()`). */
export class SandboxSocket {
  #ws: WebSocket | null = null;
  #delay = MIN_DELAY_MS;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stopped = true;
  #state: SocketState = 'stopped';
  readonly #onMessage: (msg: ServerMessage) => void;
  readonly #onState: (state: SocketState) => void;

  constructor(onMessage: (msg: ServerMessage) => void, onState: (state: SocketState) => void) {
    this.#onMessage = onMessage;
    this.#onState = onState;
  }

  /** The current connection state. */
  get state(): SocketState {
    return this.#state;
  }

  /** Opens the socket (again, after `stop()`). */
  start(): void {
    this.#stopped = false;
    this.#delay = MIN_DELAY_MS;
    this.#clearTimer();
    this.#ws?.close();
    this.#setState('connecting');
    this.#open();
  }

  /** Closes the socket and stops reconnecting. */
  stop(): void {
    this.#stopped = true;
    this.#clearTimer();
    const ws = this.#ws;
    this.#ws = null;
    ws?.close();
    this.#setState('stopped');
  }

  /** Sends a message if the socket is open; returns whether it was sent. */
  send(msg: ClientMessage): boolean {
    if (this.#ws?.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(JSON.stringify(msg));
    return true;
  }

  #open(): void {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}/api/ws`);
    this.#ws = ws;
    ws.onopen = () => {
      this.#delay = MIN_DELAY_MS;
      this.#setState('open');
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      let msg: ServerMessage;
      try {
        msg = JSON.parse(ev.data) as ServerMessage;
      } catch {
        return;
      }
      if (msg && typeof msg.type === 'string') this.#onMessage(msg);
    };
    ws.onclose = () => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      if (this.#stopped) return;
      this.#setState('reconnecting');
      this.#timer = setTimeout(() => this.#open(), this.#delay);
      this.#delay = Math.min(this.#delay * 2, MAX_DELAY_MS);
    };
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #setState(state: SocketState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#onState(state);
  }
}
