import { promises as fs } from 'node:fs';
import path from 'node:path';
import { run } from '../util/exec.ts';
import { runLogged } from './run-logged.ts';
import { BUILT_FROM_LABEL, PACKAGES_LABEL, catalogError, type CatalogLog, type ImageRecipe, type ImageSpec } from './recipe.ts';

/** The Debian release every Debian-based catalog image is made from. */
export const SUITE = 'bookworm';
const MMDEBSTRAP_TIMEOUT_MS = 15 * 60_000;
/**
 * mmdebstrap's hooks for merged /usr made with directory symlinks, as debootstrap (and so Docker's debian
 * image) makes it. They install usr-is-merged in place of usrmerge, which would pull in 46 MB of perl.
 */
const MERGED_USR_HOOKS = '/usr/share/mmdebstrap/hooks/merged-usr';

/**
 * What Docker's `-slim` Debian images leave out, as dpkg path filters: documentation (except copyright
 * notices), man and info pages, and translations. They stay in the image (/etc/dpkg/dpkg.cfg.d/99mmdebstrap),
 * so packages a learner installs later are slimmed the same way.
 */
const SLIM_FILTERS = [
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/groff/*',
  'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/lintian/*',
  'path-exclude=/usr/share/linda/*',
  'path-exclude=/usr/share/locale/*',
  'path-include=/usr/share/locale/locale.alias',
];

/** debian:bookworm (also debian:12, debian:latest): Debian's minbase variant, as Docker's debian image is. */
export const debianRecipe: ImageRecipe = makeRecipe(false);
/** debian:bookworm-slim: the same with docs, man pages and locales filtered out. */
export const debianSlimRecipe: ImageRecipe = makeRecipe(true);

function makeRecipe(slim: boolean): ImageRecipe {
  return {
    refs: slim ? [`debian:${SUITE}-slim`] : [`debian:${SUITE}`, 'debian:12', 'debian:latest'],
    description: slim ? 'Debian 12 (bookworm) minbase without docs, man pages and locales' : 'Debian 12 (bookworm) minbase: dpkg, apt, bash and coreutils',
    version: slim ? 'debian-slim/3' : 'debian/3',
    build: (work, log) => buildDebian(work, log, slim),
  };
}

async function buildDebian(work: string, log: CatalogLog, slim: boolean): Promise<ImageSpec> {
  const made = await bootstrapDebian(work, log, slim);
  return {
    layers: [{ dir: made.rootfs, createdBy: made.how }],
    cmd: ['bash'],
    labels: {
      [BUILT_FROM_LABEL]: `Debian ${made.debianVersion} (${SUITE}) ${slim ? 'minbase, slimmed' : 'minbase'}, installed by ${made.tool} from ${made.uris.join(' ')}`,
      [PACKAGES_LABEL]: made.packages.join(' '),
    },
  };
}

/** A bootstrapped Debian root filesystem and what made it. */
export interface DebianBootstrap {
  rootfs: string;
  /** What was run, for the layer's history entry. */
  how: string;
  /** `mmdebstrap x.y.z`. */
  tool: string;
  /** /etc/debian_version, e.g. `12.12`. */
  debianVersion: string;
  /** `name=version` of every installed package, sorted. */
  packages: string[];
  /** The archive URLs of the host's apt sources. */
  uris: string[];
}

/**
 * Bootstrap Debian minbase (slimmed or not) into `work/rootfs` with the host's apt sources, plus the
 * `include` packages, and tidy it. The same settings every time, so two bootstraps differ only in what
 * `include` adds and in the mtimes of files made at install time.
 */
export async function bootstrapDebian(work: string, log: CatalogLog, slim: boolean, include: readonly string[] = []): Promise<DebianBootstrap> {
  const sources = await hostAptSources();
  const rootfs = path.join(work, 'rootfs');
  const filters = slim ? SLIM_FILTERS.map((f) => `--dpkgopt=${f}`) : [];
  const extra = include.length > 0 ? [`--include=${include.join(',')}`] : [];
  const options = ['--variant=minbase', '--mode=root', '--format=directory', `--hook-dir=${MERGED_USR_HOOKS}`, ...filters, ...extra];
  log(`running mmdebstrap (15-30 s) with the host's apt sources: ${sources.join(' ')}`);
  // A private mount namespace: the /proc, /sys and /dev/pts mmdebstrap mounts inside the rootfs vanish with
  // it even if it is killed, so a later cleanup can never delete through a live host mount.
  const privateMounts = ['--mount', '--propagation', 'private'];
  await runLogged('unshare', [...privateMounts, 'mmdebstrap', ...options, SUITE, rootfs, ...sources], statusOnly(log), MMDEBSTRAP_TIMEOUT_MS);
  await tidy(rootfs);
  const [version, debianVersion, packages, uris] = await Promise.all([
    run('mmdebstrap', ['--version']),
    fs.readFile(path.join(rootfs, 'etc/debian_version'), 'utf8'),
    installedPackages(rootfs),
    sourceUris(sources),
  ]);
  const tool = version.trim();
  const how = `mmdebstrap ${options.join(' ')} ${SUITE} (${tool}, the host's apt sources); then apt lists, caches and logs removed, /dev emptied, /etc/hostname and /etc/resolv.conf blanked`;
  return { rootfs, how, tool, debianVersion: debianVersion.trim(), packages, uris };
}

/** mmdebstrap's own status lines (`I:`, `W:`, `E:`), not the apt and dpkg chatter of its hooks. */
function statusOnly(log: CatalogLog): CatalogLog {
  return (line) => {
    if (/^[IWE]: /.test(line)) log(line.replace(/^I: /, ''));
  };
}

/** The apt source files this machine is configured with (what "the host's apt sources" means). */
async function hostAptSources(): Promise<string[]> {
  const files: string[] = [];
  const main = '/etc/apt/sources.list';
  const mainText = await fs.readFile(main, 'utf8').catch(() => '');
  if (/^\s*deb\s/m.test(mainText)) files.push(main);
  const dir = '/etc/apt/sources.list.d';
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names.sort()) {
    if (name.endsWith('.list') || name.endsWith('.sources')) files.push(path.join(dir, name));
  }
  if (files.length === 0) throw catalogError('this machine has no apt sources configured (/etc/apt/sources.list, /etc/apt/sources.list.d/)');
  return files;
}

/** The archive URLs of this machine's apt sources (one-line and deb822 files alike). */
export async function hostAptUris(): Promise<string[]> {
  return sourceUris(await hostAptSources());
}

/** The archive URLs named in the source files, for the image's label. */
async function sourceUris(files: readonly string[]): Promise<string[]> {
  const uris = new Set<string>();
  for (const file of files) {
    const text = await fs.readFile(file, 'utf8');
    for (const line of text.split('\n')) {
      if (/^\s*#/.test(line)) continue;
      for (const m of line.matchAll(/\b[a-z+]+:\/\/\S+/g)) uris.add(m[0]);
    }
  }
  return [...uris];
}

/** `name=version` for every package the rootfs's dpkg database lists as installed (read by the host's dpkg-query). */
async function installedPackages(rootfs: string): Promise<string[]> {
  const out = await run('dpkg-query', [`--admindir=${path.join(rootfs, 'var/lib/dpkg')}`, '-W', '-f=${db:Status-Abbrev}${Package}=${Version}\n']);
  return out
    .split('\n')
    .filter((line) => line.startsWith('ii '))
    .map((line) => line.slice(3).trim())
    .sort();
}

/**
 * Remove what a container image should not carry: package indexes and caches (stale by the time anyone runs
 * the image, and large), logs of the install, device nodes (the runtime provides /dev), and this host's name
 * and resolver (the runtime mounts its own).
 */
async function tidy(rootfs: string): Promise<void> {
  await removeChildren(rootfs, 'dev');
  await removeChildren(rootfs, 'var/lib/apt/lists');
  await removeChildren(rootfs, 'var/cache/apt', (n) => n.endsWith('.bin'));
  await removeChildren(rootfs, 'var/cache/apt/archives', (n) => n.endsWith('.deb'));
  await removeChildren(rootfs, 'var/log/apt');
  await removeChildren(rootfs, 'var/log', (n) => ['dpkg.log', 'alternatives.log', 'bootstrap.log'].includes(n));
  await removeChildren(rootfs, 'var/cache/debconf', (n) => n.endsWith('-old'));
  await removeChildren(rootfs, 'var/lib/dpkg', (n) => n.endsWith('-old'));
  await removeChildren(rootfs, 'var/cache/ldconfig', (n) => n === 'aux-cache');
  for (const file of ['etc/hostname', 'etc/resolv.conf']) {
    // Removed first: writing through a symlink here would write to the host's file of that name.
    await fs.rm(path.join(rootfs, file), { force: true });
    await fs.writeFile(path.join(rootfs, file), '', { flag: 'wx', mode: 0o644 });
  }
}

/** Remove the entries of `rootfs/rel` that `select` accepts; a missing directory is fine. */
async function removeChildren(rootfs: string, rel: string, select: (name: string) => boolean = () => true): Promise<void> {
  const dir = path.join(rootfs, rel);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter(select).map((n) => fs.rm(path.join(dir, n), { recursive: true, force: true })));
}
