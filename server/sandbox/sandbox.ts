import http from 'node:http';
import type { Engine } from '../../runtime/index.ts';
import type { PublishedPort, ServerMessage, SessionInfo } from '../protocol.ts';
import { WorkspaceFiles } from '../workspace/files.ts';
import type { ShellSession } from './shell-session.ts';

/** One browser tab connected to a sandbox. */
export interface SandboxClient {
  send(message: ServerMessage): void;
  /** Close the tab's connection (the sandbox is gone). */
  close(): void;
}

export type EndReason = 'idle' | 'lifetime' | 'reset' | 'shutdown';

/** Everything a live sandbox is made of; the manager creates and destroys it. */
export interface SandboxParts {
  id: string;
  token: string;
  /** Secret part of the sandbox's preview URLs (/p/<key>/<port>/), separate from the session token. */
  previewKey: string;
  dir: string;
  netns: string;
  workspaceDir: string;
  engine: Engine;
  api: http.Server;
  files: WorkspaceFiles;
}

/**
 * A learner's sandbox as the web server sees it: the session info, the tabs attached to it, its terminal,
 * its workspace files and its published ports. The manager owns its lifecycle (create, idle timeout,
 * lifetime, reset, destroy).
 */
export class Sandbox {
  readonly createdAt = Date.now();
  lastActivity = Date.now();
  /** Set once the idle warning went out, so it is sent once per idle period. */
  warned = false;
  ended = false;
  shell!: ShellSession;
  private readonly clients = new Set<SandboxClient>();
  private ports: PublishedPort[] = [];
  private readonly stops: Array<() => void> = [];

  constructor(
    readonly parts: SandboxParts,
    private readonly timing: { idleTimeoutMs: number; idleWarningMs: number; lifetimeMs: number },
    readonly workspacePath: string,
    /** The address that created it (per-client limit). */
    readonly client: string,
  ) {
    this.stops.push(parts.files.watch((paths) => this.broadcast({ type: 'files-changed', paths })));
    this.stops.push(
      parts.engine.events.subscribe((e) => {
        if (e.Type === 'container' && ['start', 'die', 'destroy', 'pause', 'unpause'].includes(e.Action)) this.refreshPorts();
      }),
    );
  }

  get id(): string {
    return this.parts.id;
  }

  get files(): WorkspaceFiles {
    return this.parts.files;
  }

  get engine(): Engine {
    return this.parts.engine;
  }

  info(): SessionInfo {
    return {
      sandboxId: this.id,
      createdAt: new Date(this.createdAt).toISOString(),
      expiresAt: new Date(this.createdAt + this.timing.lifetimeMs).toISOString(),
      idleTimeoutSeconds: Math.round(this.timing.idleTimeoutMs / 1000),
      idleWarningSeconds: Math.round(this.timing.idleWarningMs / 1000),
      workspacePath: this.workspacePath,
    };
  }

  /** The learner did something: the idle clock starts again. */
  touch(): void {
    this.lastActivity = Date.now();
    this.warned = false;
  }

  /** Attach a tab: session info, the terminal's recent output, the ports, then live messages. */
  attach(client: SandboxClient): () => void {
    client.send({ type: 'session', session: this.info() });
    client.send({ type: 'replay', data: this.shell.recentOutput() });
    client.send({ type: 'ports', ports: this.ports });
    this.clients.add(client);
    return () => this.clients.delete(client);
  }

  publishedPorts(): PublishedPort[] {
    return this.ports;
  }

  broadcast(message: ServerMessage): void {
    for (const c of this.clients) c.send(message);
  }

  /** Tell every tab the sandbox is over and disconnect them; stop watching. */
  end(reason: EndReason): void {
    this.ended = true;
    this.broadcast({ type: 'sandbox-ended', reason });
    for (const c of this.clients) c.close();
    this.clients.clear();
    for (const stop of this.stops.splice(0)) stop();
  }

  private refreshPorts(): void {
    if (this.ended) return;
    const ports = this.parts.engine.publishedPorts().sort((a, b) => a.hostPort - b.hostPort);
    if (JSON.stringify(ports) === JSON.stringify(this.ports)) return;
    this.ports = ports;
    this.broadcast({ type: 'ports', ports });
  }
}
