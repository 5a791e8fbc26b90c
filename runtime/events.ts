import { nowMicros } from './container/json-log.ts';

export type EventType = 'container' | 'image' | 'network' | 'volume';

/** One event as `GET /events` sends it (engine-api-facts §7.34), in dockerd's key order. */
export interface EngineEvent {
  status?: string;
  id?: string;
  from?: string;
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
}

export type EventListener = (event: EngineEvent) => void;

/** How many past events are kept for `docker events --since` (dockerd keeps 256; a lesson may need more). */
const HISTORY = 1024;

/**
 * The engine's event bus: every service emits here (containers, images, networks, volumes) and the
 * `/events` route replays the recent past and then follows live events. Emitting never throws and never
 * waits: a slow or failing listener cannot hold up the operation that emitted.
 */
export class EventBus {
  private readonly history: EngineEvent[] = [];
  private readonly listeners = new Set<EventListener>();

  /** Record and broadcast an event. Container and image events carry dockerd's legacy status/id/from. */
  emit(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): void {
    const micros = nowMicros();
    const event: EngineEvent = {
      ...(type === 'container' || type === 'image' ? { status: action, id, ...(attributes.image ? { from: attributes.image } : {}) } : {}),
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Math.floor(micros / 1e6),
      timeNano: micros * 1000,
    };
    this.history.push(event);
    if (this.history.length > HISTORY) this.history.shift();
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own (e.g. a client that went away); the emitter carries on.
      }
    }
  }

  /** Events kept from the past, oldest first. */
  recent(): EngineEvent[] {
    return [...this.history];
  }

  /** Follow live events; returns the function that stops following. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}
