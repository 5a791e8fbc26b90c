import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
/** The layerlab server the dev server forwards API, WebSocket and preview traffic to. */
const server = process.env.LAYERLAB_DEV_TARGET ?? 'http://127.0.0.1:8080';

/**
 * dockerfile-ast checks for a UTF-8 BOM with Node's Buffer, which the browser lacks (and a global Buffer shim
 * would mislead Monaco's own feature check); this rewrites that one call to TextEncoder.
 */
function dockerfileAstWithoutBuffer(): Plugin {
  const call = 'Buffer.from(char, "UTF-8")';
  return {
    name: 'layerlab:dockerfile-ast-without-buffer',
    transform(code, id) {
      if (!id.replaceAll('\\', '/').endsWith('/dockerfile-ast/lib/util.js')) return null;
      if (!code.includes(call)) throw new Error('dockerfile-ast changed: re-check its use of Buffer');
      return code.replace(call, 'new TextEncoder().encode(char)');
    },
  };
}

/** Builds the browser workspace into web/dist; `vite --config web/vite.config.ts` serves it with a proxy. */
export default defineConfig({
  root,
  base: '/',
  plugins: [svelte(), dockerfileAstWithoutBuffer()],
  resolve: {
    // dockerfile-language-service imports Node's https for Docker Hub tag lookups; see src/lib/no-https.ts.
    alias: { https: fileURLToPath(new URL('src/lib/no-https.ts', import.meta.url)) },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Monaco alone is ~3 MB minified; it is loaded once and cached, so the warning says nothing useful.
    chunkSizeWarningLimit: 4096,
  },
  // The dev server pre-bundles dependencies without the plugins above; give that step the same rewrite.
  optimizeDeps: { rolldownOptions: { plugins: [dockerfileAstWithoutBuffer()] } },
  worker: { format: 'es' },
  server: {
    proxy: {
      '/api': { target: server, ws: true, changeOrigin: false },
      '/preview': { target: server, ws: true, changeOrigin: false },
    },
  },
});
