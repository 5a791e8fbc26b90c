import { promises as fsp } from 'node:fs';
import path from 'node:path';

/** One starter file of a lesson, read at load time. */
export interface StarterFile {
  /** Workspace-relative, `/`-separated. */
  path: string;
  content: Buffer;
  /** 0755 when the file in the repository is executable, else 0644. */
  mode: number;
}

/** Caps on a lesson's `files/`: they are copied into a sandbox on every start. */
export const STARTER_LIMITS = { maxFiles: 100, maxFileBytes: 256 * 1024, maxTotalBytes: 1024 * 1024 } as const;

/**
 * Every regular file below `dir`, sorted by path. Links and special files are refused (never followed), as
 * are more files or bytes than STARTER_LIMITS: the error names the offending file.
 */
export async function readStarterFiles(dir: string): Promise<StarterFile[]> {
  const out: StarterFile[] = [];
  let total = 0;
  const visit = async (rel: string) => {
    for (const name of (await fsp.readdir(path.join(dir, rel))).sort()) {
      const relPath = rel === '' ? name : `${rel}/${name}`;
      const full = path.join(dir, relPath);
      const st = await fsp.lstat(full);
      if (st.isDirectory()) {
        await visit(relPath);
        continue;
      }
      if (!st.isFile()) throw new Error(`${full}: starter files must be regular files (no links, FIFOs or devices)`);
      if (st.size > STARTER_LIMITS.maxFileBytes) throw new Error(`${full}: larger than ${STARTER_LIMITS.maxFileBytes} bytes`);
      total += st.size;
      if (total > STARTER_LIMITS.maxTotalBytes) throw new Error(`${full}: the lesson's files/ exceed ${STARTER_LIMITS.maxTotalBytes} bytes`);
      if (out.length >= STARTER_LIMITS.maxFiles) throw new Error(`${full}: more than ${STARTER_LIMITS.maxFiles} starter files`);
      out.push({ path: relPath, content: await fsp.readFile(full), mode: st.mode & 0o111 ? 0o755 : 0o644 });
    }
  };
  await visit('');
  return out;
}
