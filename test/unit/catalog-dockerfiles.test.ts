import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CATALOG_PLAN, recipeStamp } from '../../runtime/catalog/build.ts';
import { contextDir, contextHash, DOCKERFILE_IMAGES, dockerfileVersion } from '../../runtime/catalog/dockerfile-images.ts';
import { installedPackages } from '../../runtime/catalog/dpkg-status.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'layerlab-catalog-dockerfiles-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('catalog Dockerfiles', () => {
  it('each build on debian:bookworm-slim and has a version in the recipe stamp', () => {
    const stamp = JSON.parse(recipeStamp(CATALOG_PLAN)) as { images: string[] };
    for (const image of DOCKERFILE_IMAGES) {
      expect(readFileSync(path.join(contextDir(image), 'Dockerfile'), 'utf8')).toMatch(/^FROM debian:bookworm-slim$/m);
      expect(dockerfileVersion(image)).toMatch(new RegExp(`^${image.name}/[0-9a-f]{16}$`));
      expect(stamp.images).toContain(dockerfileVersion(image));
    }
  });

  it('hash the whole context: an edit, an executable bit or a new file changes the version', () => {
    const dir = path.join(root, 'ctx');
    mkdirSync(path.join(dir, 'sub'), { recursive: true });
    writeFileSync(path.join(dir, 'Dockerfile'), 'FROM debian:bookworm-slim\n');
    writeFileSync(path.join(dir, 'sub/run.sh'), 'echo hi\n', { mode: 0o644 });
    const seen = new Set([contextHash(dir)]);
    expect(contextHash(dir)).toBe([...seen][0]);
    writeFileSync(path.join(dir, 'sub/run.sh'), 'echo ho\n');
    seen.add(contextHash(dir));
    chmodSync(path.join(dir, 'sub/run.sh'), 0o755);
    seen.add(contextHash(dir));
    writeFileSync(path.join(dir, 'extra'), '');
    seen.add(contextHash(dir));
    expect(seen.size).toBe(4);
  });

  it('read the installed packages of a dpkg status file', () => {
    const status = [
      'Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13\n',
      'Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n',
      'Package: nodejs\nStatus: install ok installed\nPriority: optional\nVersion: 18.19.0+dfsg-6~deb12u2\nDescription: x\n y\n',
    ].join('\n');
    expect(installedPackages(status)).toEqual(['nodejs=18.19.0+dfsg-6~deb12u2', 'zlib1g=1:1.2.13']);
  });
});
