import type http from 'node:http';
import type { Engine } from '../engine.ts';
import { Router } from './router.ts';
import { buildRoutes } from './routes/build.ts';
import { imageRoutes } from './routes/images.ts';
import { imageArchiveRoutes } from './routes/image-archive.ts';
import { systemRoutes } from './routes/system.ts';
import { listenOnSocket } from './server.ts';

/** All Engine API routes for one engine. */
export function engineRouter(engine: Engine): Router {
  const router = new Router();
  systemRoutes(router, engine);
  imageArchiveRoutes(router, engine);
  imageRoutes(router, engine);
  buildRoutes(router, engine);
  return router;
}

/** Serve an engine's API on a unix socket (what `DOCKER_HOST=unix://…` points the CLI at). */
export function serveEngineApi(engine: Engine, socketPath: string): Promise<http.Server> {
  return listenOnSocket(engineRouter(engine), { version: engine.options.version }, socketPath);
}
