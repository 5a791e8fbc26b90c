import { invalid } from '../errors.ts';
import { readFileInRoot } from './rootfs-path.ts';

/** The identity a container process runs as, as the OCI spec's `process.user` wants it. */
export interface ExecUser {
  uid: number;
  gid: number;
  additionalGids: number[];
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const MAX_ID = 2 ** 31 - 1;

function parseId(text: string): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= MAX_ID ? n : undefined;
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    const uid = parseId(f[2] ?? '');
    const gid = parseId(f[3] ?? '');
    if (f[0] && uid !== undefined && gid !== undefined) out.push({ name: f[0], uid, gid });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    const gid = parseId(f[2] ?? '');
    if (f[0] && gid !== undefined) out.push({ name: f[0], gid, members: (f[3] ?? '').split(',').filter(Boolean) });
  }
  return out;
}

/**
 * Resolve Docker's `--user` (`name`, `uid`, `name:group`, `uid:gid`) against the container's passwd and
 * group files exactly as runc's GetExecUser does: a name must exist, a number need not; supplementary
 * groups come from group membership only when no group is given; GroupAdd entries are appended.
 */
export function resolveUser(spec: string, passwd: PasswdEntry[], groups: GroupEntry[], groupAdd: readonly string[] = []): ExecUser {
  const [userArg = '', groupArg = ''] = spec.split(':', 2);
  const uidArg = parseId(userArg);
  const match = passwd.find((u) => (userArg === '' ? u.uid === 0 : uidArg !== undefined ? u.uid === uidArg : u.name === userArg));
  const user: ExecUser = { uid: match?.uid ?? uidArg ?? 0, gid: match?.gid ?? 0, additionalGids: [] };
  if (!match && userArg !== '' && uidArg === undefined) throw invalid(`unable to find user ${userArg}: no matching entries in passwd file`);
  if (groupArg !== '') {
    const gidArg = parseId(groupArg);
    const group = groups.find((g) => (gidArg !== undefined ? g.gid === gidArg : g.name === groupArg));
    if (!group && gidArg === undefined) throw invalid(`unable to find group ${groupArg}: no matching entries in group file`);
    user.gid = group?.gid ?? gidArg!;
  } else if (match) {
    user.additionalGids = groups.filter((g) => g.members.includes(match.name)).map((g) => g.gid);
  }
  // The primary group is also a supplementary group, as the processes of dockerd's containers show it.
  user.additionalGids = [...new Set([user.gid, ...user.additionalGids])];
  for (const extra of groupAdd) {
    const gid = parseId(extra) ?? groups.find((g) => g.name === extra)?.gid;
    if (gid === undefined) throw invalid(`Unable to find group ${extra}: no matching entries in group file`);
    user.additionalGids.push(gid);
  }
  return user;
}

/**
 * Resolve a user spec inside a container's root filesystem. The passwd and group files are read by the
 * engine itself with symlinks resolved inside the root (never NSS, never a binary of the container).
 */
export async function resolveUserInRoot(root: string, spec: string, groupAdd: readonly string[] = []): Promise<ExecUser> {
  const passwd = await readFileInRoot(root, '/etc/passwd', 1024 * 1024);
  const group = await readFileInRoot(root, '/etc/group', 1024 * 1024);
  return resolveUser(spec, parsePasswd(passwd?.toString() ?? ''), parseGroup(group?.toString() ?? ''), groupAdd);
}
