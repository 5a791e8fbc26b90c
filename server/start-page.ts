import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Engine } from '../runtime/index.ts';
import type { Config } from './config.ts';

/**
 * Until the browser workspace exists, `/` says plainly what runs and how to use it from a shell.
 */
export function startPage(req: IncomingMessage, res: ServerResponse, engine: Engine, config: Config): void {
  if (req.url !== '/' && req.url !== '/index.html') {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
    return;
  }
  const images = engine.catalog.names().map((n) => `<li><code>${escapeHtml(n)}</code></li>`).join('');
  const socket = escapeHtml(config.engineSocket);
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'" });
  res.end(`<!doctype html><html lang="en"><meta charset="utf-8"><title>layerlab</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem}code,pre{background:#f3f3f3;padding:.1rem .3rem}</style>
<h1>layerlab</h1>
<p>The engine is running. The browser workspace (lessons, editor, terminal) is not built yet; today you can drive the engine with the real docker CLI:</p>
<pre>DOCKER_HOST=unix://${socket} docker images</pre>
<h2>Offline image catalog</h2><ul>${images || '<li>(empty)</li>'}</ul>
</html>`);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
