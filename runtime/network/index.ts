/**
 * Container networking: what the container runtime and the Engine API's network routes call.
 *
 * One NetworkManager per engine, opened with the engine's state dir and its host netns (undefined for the
 * standalone engine's own, a /run/netns name for a sandbox). Opening removes whatever a previous process
 * left (netns, veths, bridges, rules): containers do not survive an engine restart.
 *
 * Runtime contract, per container start:
 *   1. `resolveNetwork(name)` at create time (refuses `host`, 404s unknown names);
 *   2. `setupContainer(id, {name, hostname, hostsPath, extraHosts})` → `netnsPath` for runc's config.json
 *      (`{"type":"network","path":netnsPath}`); bind-mount `hostsPath` at /etc/hosts (layerlab keeps it current);
 *   3. `attach(id, network, {aliases, ipv4Address})` for each configured network, first one first
 *      (`none` too, so inspect shows it);
 *   4. `publishPorts(id, portRequestsFromConfig(HostConfig.PortBindings, Config.ExposedPorts, HostConfig.PublishAllPorts))`;
 *   5. start runc; on stop/exit/removal, `teardownContainer(id)` (idempotent).
 * Inspect embeds `networkSettings(id, {exposedPorts, networks})`.
 *
 * Design choices: ports are published by DNAT in the host netns (route_localnet on the bridge and
 * MASQUERADE for local sources), so no proxy process has to be started in a sandbox netns; containers
 * resolve each other through their hosts files, rewritten in place on every attach and detach, so no DNS
 * server runs anywhere. See firewall.ts for what containers can and cannot reach.
 */
export { NetworkManager, type NetworkManagerOptions, type ContainerNetOptions } from './manager.ts';
export type { AttachOptions } from './endpoints.ts';
export type { NetworkCreateOptions, NetworkFilters } from './networks.ts';
export { portRequestsFromConfig, portsMap, type PortRequest } from './ports.ts';
export type { PublishedPort } from './state.ts';
export type { HostNetns } from './netns.ts';
