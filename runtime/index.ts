/**
 * runtime's public entry: the engine (image store, catalog, containers, builder) and its Engine API.
 * server/ imports only this file; runtime imports nothing of server or web.
 */
export { Engine, type EngineOptions } from './engine.ts';
export type { ShellOptions, ShellProcess, EnginePublishedPort } from './engine-sandbox.ts';
export type { EventBus } from './events.ts';
export { createSandboxNetns, removeSandboxNetns, listNetns } from './network/sandbox-netns.ts';
export { dialInNetns, type NetnsSocket } from './network/dial.ts';
export { Store } from './store/store.ts';
export { ensureCatalog } from './catalog/build.ts';
export { Catalog } from './catalog/catalog.ts';
export { SHELL_IMAGE } from './catalog/dockerfile-images.ts';
export { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './archive/limits.ts';
export { serveEngineApi, engineRouter } from './api/index.ts';
export { EngineError, type ErrorCode } from './errors.ts';
export { startHub, pullImage, pushImage, type Hub, type HubSettings } from './registry/index.ts';
