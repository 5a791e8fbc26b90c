/**
 * A stand-in engine for the restart test: opens the runtime on the given state, starts two containers
 * (one with a TTY), prints their IDs and waits to be killed.
 */
import { ContainerRuntime } from '../../runtime/container/runtime.ts';
import { Store } from '../../runtime/store/store.ts';
import type { Digest } from '../../runtime/util/digest.ts';

const [storeDir, stateDir, image] = process.argv.slice(2) as [string, string, Digest];
const store = await Store.open(storeDir);
const rt = await ContainerRuntime.open({ store, stateDir, limits: { diskQuotaBytes: 64 * 1024 * 1024 } });
const ids: string[] = [];
for (const tty of [false, true]) {
  const { Id } = await rt.create({ image, config: { Cmd: ['sleep', '1000'], Tty: tty } });
  await rt.start(Id);
  ids.push(Id);
}
process.stdout.write(`ready ${ids.join(' ')}\n`);
setInterval(() => undefined, 1000);
