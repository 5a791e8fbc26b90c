import type http from 'node:http';
import { ExecRegistry } from '../container-api/execs.ts';
import { containersUsingImage } from '../container-api/usage.ts';
import type { Engine } from '../engine.ts';
import { Router } from './router.ts';
import { buildRoutes } from './routes/build.ts';
import { containerRoutes } from './routes/containers.ts';
import { containerStreamRoutes } from './routes/container-streams.ts';
import { execRoutes } from './routes/exec.ts';
import { containerFsRoutes } from './routes/container-fs.ts';
import { imageRoutes } from './routes/images.ts';
import { networkRoutes } from './routes/networks.ts';
import { systemEventRoutes } from './routes/system-events.ts';
import { volumeRoutes } from './routes/volumes.ts';
import { imageArchiveRoutes } from './routes/image-archive.ts';
import { registryRoutes } from './routes/registry.ts';
import { systemRoutes } from './routes/system.ts';
import { listenOnSocket } from './server.ts';

/** All Engine API routes for one engine. */
export function engineRouter(engine: Engine): Router {
  const router = new Router();
  systemRoutes(router, engine);
  systemEventRoutes(router, engine);
  volumeRoutes(router, engine);
  networkRoutes(router, engine);
  containerFsRoutes(router, engine);
  imageArchiveRoutes(router, engine);
  imageRoutes(router, engine, { containersUsingImage: containersUsingImage(engine.containers) });
  registryRoutes(router, engine);
  const execs = new ExecRegistry(engine.containers);
  containerRoutes(router, engine, execs);
  containerStreamRoutes(router, engine);
  execRoutes(router, engine, execs);
  buildRoutes(router, engine);
  return router;
}

/** Serve an engine's API on a unix socket (what `DOCKER_HOST=unix://…` points the CLI at). */
export function serveEngineApi(engine: Engine, socketPath: string): Promise<http.Server> {
  return listenOnSocket(engineRouter(engine), { version: engine.options.version }, socketPath);
}
