import path from 'node:path';
import type { Catalog } from '../catalog/catalog.ts';
import type { Store } from '../store/store.ts';
import { attachHub } from './client/endpoint.ts';
import { Hub } from './hub/hub.ts';
import { publishCatalog } from './hub/seed.ts';

export { Hub } from './hub/hub.ts';
export { pullImage, type PullOptions, type ProgressMessage } from './client/pull.ts';
export { pushImage, type PushOptions } from './client/push.ts';

export interface HubSettings {
  /** Loopback port; 0 picks a free one. */
  port: number;
  /** Whether an unknown username registers itself on first `docker login`. */
  selfRegister: boolean;
  /** Where hub.json lives. */
  stateDir: string;
}

/**
 * Start the embedded hub over a store, publish the catalog in it (`library/busybox`, …) and make it what
 * `docker.io` names resolve to for every engine over that store.
 */
export async function startHub(store: Store, catalog: Catalog, settings: HubSettings): Promise<Hub> {
  const hub = await Hub.start({ store, stateDir: path.join(settings.stateDir, 'registry'), port: settings.port, selfRegister: settings.selfRegister });
  try {
    await publishCatalog(hub.ctx, catalog);
  } catch (err) {
    await hub.close();
    throw err;
  }
  attachHub(store, hub.address);
  return hub;
}
