import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The sandbox terminal's image: a system image, imported by the server and hidden from learners. */
export const SHELL_IMAGE = 'layerlab/shell:latest';

/** Where the catalog's Dockerfiles live: one directory per image, the Dockerfile and the files it copies. */
export const DOCKERFILES_DIR = fileURLToPath(new URL('./dockerfiles/', import.meta.url));

/**
 * A catalog image built by layerlab's own builder from a Dockerfile in the repo (FROM debian:bookworm-slim,
 * packages from the host's Debian sources), after the images the recipes make.
 */
export interface DockerfileImage {
  /** The directory under DOCKERFILES_DIR: the build context. */
  name: string;
  /** Catalog names, main name first. */
  refs: string[];
  description: string;
  /** One of layerlab's own images (see ImageRecipe.system). */
  system?: boolean;
  /** The Debian package whose version the tags name: the build fails when Debian's version has moved on. */
  tagged?: { pkg: string; versionPrefix: string };
}

/** The images built from Dockerfiles, in build order. */
export const DOCKERFILE_IMAGES: readonly DockerfileImage[] = [
  {
    name: 'node',
    refs: ['node:latest', 'node:18', 'node:18-bookworm-slim'],
    description: "Node.js 18 and npm from Debian's nodejs and npm packages on debian:bookworm-slim",
    tagged: { pkg: 'nodejs', versionPrefix: '18.' },
  },
  {
    name: 'python',
    refs: ['python:latest', 'python:3', 'python:3.11', 'python:slim', 'python:3.11-slim'],
    description: "Python 3.11 with pip and venv from Debian's python3 packages on debian:bookworm-slim",
    tagged: { pkg: 'python3', versionPrefix: '3.11.' },
  },
  {
    name: 'nginx',
    refs: ['nginx:latest', 'nginx:1.22', 'nginx:bookworm'],
    description: "nginx 1.22 web server from Debian's nginx package on debian:bookworm-slim, set up like the official image",
    tagged: { pkg: 'nginx', versionPrefix: '1.22.' },
  },
  {
    name: 'registry',
    refs: ['registry:2', 'registry:latest'],
    description: "Docker registry 2.8 (CNCF distribution) from Debian's docker-registry package on debian:bookworm-slim, listening on :5000",
    tagged: { pkg: 'docker-registry', versionPrefix: '2.' },
  },
  {
    name: 'shell',
    refs: [SHELL_IMAGE],
    description: 'The layerlab sandbox terminal: bash with completion, curl, jq, tree, nano, vim-tiny, ping, ip on debian:bookworm-slim',
    system: true,
  },
];

/** The image's build context directory. */
export function contextDir(image: DockerfileImage): string {
  return path.join(DOCKERFILES_DIR, image.name);
}

const versions = new Map<string, string>();

/**
 * `<name>/<hash>`: the hash of the image's context, so editing the Dockerfile or a file it copies changes the
 * catalog's recipe stamp and setup rebuilds. Read once per process.
 */
export function dockerfileVersion(image: DockerfileImage): string {
  let version = versions.get(image.name);
  if (!version) {
    version = `${image.name}/${contextHash(contextDir(image))}`;
    versions.set(image.name, version);
  }
  return version;
}

/** 16 hex digits of sha256 over every file under `dir`: its path, executable bit and bytes, in name order. */
export function contextHash(dir: string): string {
  const hash = createHash('sha256');
  for (const rel of filesUnder(dir, '')) {
    const file = path.join(dir, rel);
    const executable = (statSync(file).mode & 0o111) !== 0;
    hash.update(`${rel}\0${executable ? 'x' : '-'}\0`).update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

function filesUnder(root: string, rel: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const child = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...filesUnder(root, child));
    else out.push(child);
  }
  return out;
}
