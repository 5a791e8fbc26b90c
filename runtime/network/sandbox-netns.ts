import { conflict } from '../errors.ts';
import { addNetns, checkNetnsName, deleteNetns, listNetns as listNamed, netnsExists } from './netns.ts';

/**
 * A sandbox's "host" network namespace: a named netns (under /run/netns) with only its loopback, up. The
 * engine's NetworkManager makes its bridges, veths and rules in it and sets the per-device sysctls it needs
 * (route_localnet, disable_ipv6) itself, so nothing else is set here.
 */
export async function createSandboxNetns(name: string): Promise<void> {
  checkNetnsName(name);
  // `ip netns add` on an existing name fails with an obscure mount error: say what is wrong instead.
  if (await netnsExists(name)) throw conflict(`network namespace ${name} already exists`);
  try {
    await addNetns(name);
  } catch (err) {
    await deleteNetns(name).catch(() => undefined);
    throw err;
  }
}

/** Delete a sandbox's netns; no error when it is already gone. */
export async function removeSandboxNetns(name: string): Promise<void> {
  await deleteNetns(name);
}

/** Names of the netns under /run/netns that start with `prefix` (orphans to reap at server start). */
export async function listNetns(prefix: string): Promise<string[]> {
  return listNamed(prefix);
}
