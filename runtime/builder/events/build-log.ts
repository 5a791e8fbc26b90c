import { EventEmitter } from 'node:events';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { atomicWriteFile, readJsonIfExists } from '../../util/fsx.ts';
import type { BuildEvent } from './types.ts';

/** A finished or running build as stored: its events, and the per-step facts later builds compare with. */
export interface BuildRecord {
  id: string;
  /** What "the previous build of this Dockerfile/tag" means: the first tag, else the Dockerfile name. */
  subject: string;
  status: 'running' | 'succeeded' | 'failed';
  events: BuildEvent[];
  steps: StepRecord[];
}

/** What later builds need to explain their cache misses against this one. */
export interface StepRecord {
  /** Position: stage index and step index inside it (0 = the FROM). */
  stage: number;
  index: number;
  instruction: string;
  probe: string;
  parent: string | null;
  buildArgs: Record<string, string>;
  /** COPY/ADD: per-file hashes of the sources. */
  files?: Record<string, string>;
  base?: string | null;
}

const ID_RE = /^[a-f0-9]{12,64}$/;

/**
 * Builds of one namespace: stored as JSON files (one per build, plus an index of the latest build per
 * subject) and streamed live to subscribers. The web UI and the grader consume these.
 */
export class BuildLog {
  private readonly emitter = new EventEmitter();
  private readonly live = new Map<string, BuildRecord>();

  private constructor(private readonly dir: string) {
    this.emitter.setMaxListeners(0);
  }

  static async open(dir: string): Promise<BuildLog> {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    return new BuildLog(dir);
  }

  /** Start recording a build. */
  begin(id: string, subject: string): BuildRecord {
    const record: BuildRecord = { id, subject, status: 'running', events: [], steps: [] };
    this.live.set(id, record);
    return record;
  }

  /** Append an event and deliver it to subscribers of this build and of all builds. */
  emit(record: BuildRecord, event: BuildEvent): void {
    record.events.push(event);
    this.emitter.emit(`build:${record.id}`, event);
    this.emitter.emit('event', record.id, event);
  }

  /** Persist a finished build and make it the latest of its subject. */
  async finish(record: BuildRecord, status: 'succeeded' | 'failed'): Promise<void> {
    record.status = status;
    const index = (await readJsonIfExists<Record<string, string>>(this.indexFile)) ?? {};
    index[record.subject] = record.id;
    // Side by side (their syncs overlap): an index that names a record a crash kept from disk reads as no previous build.
    await Promise.all([atomicWriteFile(path.join(this.dir, `${record.id}.json`), JSON.stringify(record)), atomicWriteFile(this.indexFile, JSON.stringify(index))]);
    this.live.delete(record.id);
  }

  /** A build by ID (running or stored). */
  async get(id: string): Promise<BuildRecord | undefined> {
    if (!ID_RE.test(id)) return undefined;
    return this.live.get(id) ?? readJsonIfExists<BuildRecord>(path.join(this.dir, `${id}.json`));
  }

  /** Every build: running ones first, then the stored ones newest first. */
  async list(): Promise<BuildRecord[]> {
    const stored: Array<{ id: string; time: number }> = [];
    for (const name of await fs.readdir(this.dir)) {
      const id = name.endsWith('.json') ? name.slice(0, -5) : '';
      if (ID_RE.test(id) && !this.live.has(id)) stored.push({ id, time: (await fs.stat(path.join(this.dir, name))).mtimeMs });
    }
    stored.sort((a, b) => b.time - a.time);
    const records = await Promise.all(stored.map((s) => this.get(s.id)));
    return [...this.live.values(), ...records.filter((r): r is BuildRecord => r !== undefined)];
  }

  /** The most recent finished build of a subject. */
  async latest(subject: string): Promise<BuildRecord | undefined> {
    const index = (await readJsonIfExists<Record<string, string>>(this.indexFile)) ?? {};
    const id = index[subject];
    return id ? this.get(id) : undefined;
  }

  /** Follow one build's events (pass '*' for every build); returns the unsubscribe function. */
  subscribe(buildId: string, listener: (event: BuildEvent, buildId: string) => void): () => void {
    if (buildId === '*') {
      const all = (id: string, event: BuildEvent) => listener(event, id);
      this.emitter.on('event', all);
      return () => this.emitter.off('event', all);
    }
    const one = (event: BuildEvent) => listener(event, buildId);
    this.emitter.on(`build:${buildId}`, one);
    return () => this.emitter.off(`build:${buildId}`, one);
  }

  private get indexFile(): string {
    return path.join(this.dir, 'latest.json');
  }
}
