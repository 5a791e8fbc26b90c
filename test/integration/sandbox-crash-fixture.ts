/**
 * A stand-in server for the sandbox crash test: opens a sandbox engine on the given store, state and netns,
 * starts its shell and a container with a published port, prints `ready` and waits to be killed.
 */
import { Engine, Store } from '../../runtime/index.ts';
import { CATALOG_DIR } from '../helpers/engine.ts';

const [storeDir, stateDir, netns, workspace, namespace] = process.argv.slice(2) as [string, string, string, string, string];
const store = await Store.open(storeDir);
const engine = await Engine.open(store, {
  namespace,
  catalogDir: CATALOG_DIR,
  version: '20.10.24',
  stateDir,
  hostNetns: netns,
  workspace: { hostPath: workspace, visiblePath: '/workspace' },
  limits: { diskQuotaBytes: 256 * 1024 * 1024, diskPreallocate: false },
});
await engine.startShell({ image: 'busybox', cmd: ['sh'], env: [], workingDir: '/workspace', hostname: 'sandbox', binds: [{ source: workspace, destination: '/workspace', readOnly: false }], cols: 80, rows: 24 });
const image = (await import('../../runtime/image/lookup.ts')).resolveImage(engine.ns, 'busybox').id;
const { Id } = await engine.containers.create({ image, config: { Cmd: ['sleep', '1000'], ExposedPorts: { '80/tcp': {} } }, hostConfig: { PortBindings: { '80/tcp': [{ HostPort: '18082' }] } } });
await engine.containers.start(Id);
process.stdout.write('ready\n');
setInterval(() => undefined, 1000);
