import { promises as fs } from 'node:fs';
import path from 'node:path';
import { run } from '../util/exec.ts';
import { BUILT_FROM_LABEL, catalogError, hostPackageVersion, PACKAGES_LABEL, writeFileMode, type ImageRecipe, type ImageSpec } from './recipe.ts';

/** Debian's statically linked busybox: it runs in an image with no libc at all. */
const PACKAGE = 'busybox-static';
const BINARY = '/bin/busybox';

/** Accounts a small Unix needs: root, the usual system ids, and nobody. */
const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
`;
const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
www-data:x:33:
users:x:100:
nogroup:x:65534:
`;
/** Every account locked ('*'): nobody logs in with a password; `su` from root still works. */
const SHADOW = PASSWD.split('\n')
  .filter(Boolean)
  .map((line) => `${line.split(':')[0]}:*:::::::`)
  .join('\n')
  .concat('\n');

/** Directories with their modes: /tmp is world-writable and sticky, /root private, as on any Unix. */
const DIRECTORIES: ReadonlyArray<[string, number]> = [
  ['bin', 0o755],
  ['sbin', 0o755],
  ['usr/bin', 0o755],
  ['usr/sbin', 0o755],
  ['dev', 0o755],
  ['etc', 0o755],
  ['home', 0o755],
  ['proc', 0o555],
  ['root', 0o700],
  ['sys', 0o555],
  ['tmp', 0o1777],
  ['var/spool/mail', 0o755],
  ['var/www', 0o755],
];

/**
 * busybox:latest: the host's busybox-static binary at /bin/busybox, a symlink for every applet it has (at the
 * path `busybox --list-full` gives), and a minimal /etc. One layer, about 2 MB.
 */
export const busyboxRecipe: ImageRecipe = {
  refs: ['busybox:latest'],
  description: 'BusyBox from Debian busybox-static: sh and ~270 Unix tools in one static binary',
  version: 'busybox/2',
  async build(work, log): Promise<ImageSpec> {
    const version = await hostPackageVersion(PACKAGE);
    log(`using ${BINARY} from Debian ${PACKAGE} ${version}`);
    const rootfs = path.join(work, 'rootfs');
    await makeRootfs(rootfs);
    const applets = await installApplets(rootfs);
    return {
      layers: [
        {
          dir: rootfs,
          createdBy: `${BINARY} from Debian ${PACKAGE} ${version}, ${applets} applet symlinks (busybox --list-full), minimal /etc (passwd, group, shadow)`,
        },
      ],
      cmd: ['sh'],
      labels: { [BUILT_FROM_LABEL]: `Debian bookworm package ${PACKAGE} (the host's installed copy)`, [PACKAGES_LABEL]: `${PACKAGE}=${version}` },
    };
  },
};

async function makeRootfs(rootfs: string): Promise<void> {
  for (const [dir, mode] of DIRECTORIES) {
    const full = path.join(rootfs, dir);
    await fs.mkdir(full, { recursive: true });
    await fs.chmod(full, mode); // explicit: mkdir's mode is filtered by the umask, and loses the sticky bit
  }
  await fs.copyFile(BINARY, path.join(rootfs, 'bin/busybox'));
  await fs.chmod(path.join(rootfs, 'bin/busybox'), 0o755);
  await writeFileMode(path.join(rootfs, 'etc/passwd'), PASSWD, 0o644);
  await writeFileMode(path.join(rootfs, 'etc/group'), GROUP, 0o644);
  await writeFileMode(path.join(rootfs, 'etc/shadow'), SHADOW, 0o640);
}

/**
 * One symlink to /bin/busybox per applet. The list comes from running the host's own binary (a host package,
 * never a file from an image), and each path is checked before use.
 */
async function installApplets(rootfs: string): Promise<number> {
  const list = (await run(BINARY, ['--list-full'])).split('\n').filter(Boolean);
  let count = 0;
  for (const rel of list) {
    if (rel === 'linuxrc') continue; // the init of an initramfs: a container has no use for it
    if (!/^(usr\/)?s?bin\/[^/]+$/.test(rel) || rel.includes('..')) throw catalogError(`unexpected busybox applet path: ${rel}`);
    if (rel === 'bin/busybox') continue;
    await fs.symlink('/bin/busybox', path.join(rootfs, rel));
    count++;
  }
  if (!list.includes('bin/sh')) throw catalogError(`${BINARY} has no sh applet`);
  return count;
}
