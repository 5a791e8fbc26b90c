import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { resolveInRoot } from '../context/scoped-path.ts';
import type { Identity } from './upper-dir.ts';

/**
 * `--chown=user[:group]` as the classic builder resolves it (internals_linux.go parseChownFlag): numbers need
 * no lookup, names are looked up in the image's /etc/passwd and /etc/group (resolved inside the image's root,
 * never on the host); a missing group part means the user string names the group too.
 */
export async function resolveChown(chown: string, imageRoot: string): Promise<Identity> {
  const parts = chown.split(':');
  if (parts.length > 2) throw new Error(`invalid chown string format: ${chown}`);
  const [userStr, groupStr] = [parts[0]!, parts[1] ?? parts[0]!];
  const uid = await lookup(userStr, imageRoot, 'passwd').catch((err: Error) => {
    throw new Error(`unable to convert uid/gid chown string to host mapping: can't find uid for user ${userStr}: ${err.message}`);
  });
  const gid = await lookup(groupStr, imageRoot, 'group').catch((err: Error) => {
    throw new Error(`unable to convert uid/gid chown string to host mapping: can't find gid for group ${groupStr}: ${err.message}`);
  });
  return { uid, gid };
}

async function lookup(name: string, imageRoot: string, file: 'passwd' | 'group'): Promise<number> {
  if (/^\d+$/.test(name)) return Number(name);
  const text = await readImageFile(imageRoot, `etc/${file}`);
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields.length >= 3 && /^\d+$/.test(fields[2]!)) return Number(fields[2]);
  }
  throw new Error(file === 'passwd' ? `no such user: ${name}` : `no such group: ${name}`);
}

/** Read a small file of an image, resolving symlinks inside the image root only. */
export async function readImageFile(imageRoot: string, rel: string): Promise<string> {
  const real = await resolveInRoot(imageRoot, rel);
  let handle;
  try {
    handle = await fs.open(path.join(imageRoot, real), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    throw new Error(`open /${rel}: no such file or directory`);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile() || st.size > 4 * 1024 * 1024) throw new Error(`open /${rel}: not a regular file`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
