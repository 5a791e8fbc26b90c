import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Log } from './setup.ts';

const STAMP = '.build-stamp';

/**
 * Build the browser app (web/ → web/dist) with Vite when its sources changed since the last build. The
 * stamp is a hash of every source file and the lockfile, so a `git pull` or an `npm ci` that changes what
 * the app is made of rebuilds it, and an unchanged tree costs one directory walk.
 */
export async function ensureWebBuild(repoDir: string, log: Log): Promise<void> {
  const webDir = path.join(repoDir, 'web');
  const dist = path.join(webDir, 'dist');
  const stamp = await sourceHash(repoDir, webDir);
  const built = await fs.readFile(path.join(dist, STAMP), 'utf8').catch(() => '');
  if (built === stamp) return;
  log('building the web app (vite)');
  const started = Date.now();
  await runVite(repoDir);
  await fs.writeFile(path.join(dist, STAMP), stamp);
  log(`web app built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function sourceHash(repoDir: string, webDir: string): Promise<string> {
  const hash = createHash('sha256');
  const files = [path.join(repoDir, 'package-lock.json'), path.join(repoDir, 'server/protocol.ts')];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory() && e.name !== 'dist' && e.name !== 'node_modules') await walk(full);
      else if (e.isFile()) files.push(full);
    }
  };
  await walk(webDir);
  for (const f of files.sort()) hash.update(`${path.relative(repoDir, f)}\0`).update(await fs.readFile(f));
  return hash.digest('hex');
}

function runVite(repoDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(repoDir, 'node_modules/.bin/vite'), ['build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
      cwd: repoDir,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`vite build failed (exit ${code})`))));
  });
}
