import { promises as fs } from 'node:fs';
import path from 'node:path';
import { atomicWriteFile, readJsonIfExists, removeStaleTemps } from '../util/fsx.ts';
import type { ContainerRecord, ContainerState } from './types.ts';

/** A container's state before its first start (Docker's zero times included). */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function initialState(): ContainerState {
  return { Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME };
}

/**
 * Container records on disk: `<root>/<id>/config.json` (the record, written once at create and on rename)
 * and `state.json` (rewritten on every transition after create), both atomically; beside them the json-file
 * log, the files bind-mounted as /etc/hosts, /etc/hostname and /etc/resolv.conf, and the OCI bundle.
 */
export class ContainerStore {
  constructor(readonly root: string) {}

  async init(): Promise<void> {
    await fs.mkdir(this.root, { recursive: true, mode: 0o700 });
    await removeStaleTemps(this.root);
  }

  dir(id: string): string {
    return path.join(this.root, id);
  }

  logPath(id: string): string {
    return path.join(this.dir(id), `${id}-json.log`);
  }

  hostsPath(id: string): string {
    return path.join(this.dir(id), 'hosts');
  }

  hostnamePath(id: string): string {
    return path.join(this.dir(id), 'hostname');
  }

  resolvConfPath(id: string): string {
    return path.join(this.dir(id), 'resolv.conf');
  }

  bundleDir(id: string): string {
    return path.join(this.dir(id), 'bundle');
  }

  runcLog(id: string): string {
    return path.join(this.dir(id), 'runc.log');
  }

  /**
   * A new container: its directory and record. No state.json yet: load() reads its absence as the initial
   * state, so a create costs one durable write. A directory without config.json is an interrupted create,
   * removed at the next load.
   */
  async create(record: ContainerRecord): Promise<void> {
    await fs.mkdir(this.dir(record.Id), { mode: 0o700 });
    await this.saveRecord(record);
  }

  saveRecord(record: ContainerRecord): Promise<void> {
    return atomicWriteFile(path.join(this.dir(record.Id), 'config.json'), JSON.stringify(record), 0o600);
  }

  saveState(id: string, state: ContainerState): Promise<void> {
    return atomicWriteFile(path.join(this.dir(id), 'state.json'), JSON.stringify(state), 0o600);
  }

  /** Every stored container; leftovers of interrupted creates are deleted. */
  async load(): Promise<Array<{ record: ContainerRecord; state: ContainerState }>> {
    const out: Array<{ record: ContainerRecord; state: ContainerState }> = [];
    for (const id of await fs.readdir(this.root)) {
      if (!/^[0-9a-f]{64}$/.test(id)) continue;
      const record = await readJsonIfExists<ContainerRecord>(path.join(this.dir(id), 'config.json'));
      if (!record) {
        await fs.rm(this.dir(id), { recursive: true, force: true });
        continue;
      }
      const state = (await readJsonIfExists<ContainerState>(path.join(this.dir(id), 'state.json'))) ?? initialState();
      out.push({ record, state });
    }
    return out;
  }

  /** Drop the record: the container is gone for load(), which deletes what is left of its directory. */
  async forget(id: string): Promise<void> {
    await fs.rm(path.join(this.dir(id), 'config.json'), { force: true });
  }

  async remove(id: string): Promise<void> {
    // Drop the record first, so a crash part-way leaves an "interrupted create" that load() cleans up.
    await this.forget(id);
    await fs.rm(this.dir(id), { recursive: true, force: true });
  }
}
