/**
 * A child process for the crash-safety test: writes to a store as fast as it can (layers, images, tags)
 * until it is killed. Usage: tsx store-writer.ts <state dir>
 */
import { randomBytes } from 'node:crypto';
import { Store } from '../../runtime/store/store.ts';
import { makeImage } from './store.ts';

const store = await Store.open(process.argv[2]!);
const ns = await store.namespace('default');
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  const { id } = await makeImage(store, [{ 'base/file': 'shared base' }, { [`f${i}`]: randomBytes(64 * 1024).toString('hex') }]);
  await ns.update((d) => {
    d.images[id] = { added: new Date().toISOString() };
    d.tags[`docker.io/library/crash:${i % 5}`] = id;
  });
  if (i % 3 === 0) await store.collectGarbage();
}
