/**
 * Container networking: what the container runtime and the Engine API's network routes call.
 * See manager.ts for the lifecycle; everything takes the engine's host netns at open.
 */
export { NetworkManager, type NetworkManagerOptions, type ContainerNetOptions } from './manager.ts';
export type { AttachOptions } from './endpoints.ts';
export type { NetworkCreateOptions, NetworkFilters } from './networks.ts';
export { portRequestsFromConfig, portsMap, type PortRequest } from './ports.ts';
export type { PublishedPort } from './state.ts';
export type { HostNetns } from './netns.ts';
