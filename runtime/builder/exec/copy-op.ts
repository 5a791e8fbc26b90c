import { createReadStream, promises as fs } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { applyLayer } from '../../archive/apply-layer.ts';
import type { ArchiveLimits } from '../../archive/limits.ts';
import { openMaybeGzip } from '../../archive/tar-reader.ts';
import { clampArchiveNames } from './clamp-tar.ts';
import { resolveInRoot } from '../context/scoped-path.ts';
import type { CopySource } from '../context/sources.ts';
import { UpperDir, type Identity } from './upper-dir.ts';

export interface CopyRequest {
  /** Root of the tree the sources were resolved in (context, stage or image). */
  sourceRoot: string;
  sources: CopySource[];
  /** Destination, already made absolute against WORKDIR (trailing slash kept). */
  dest: string;
  owner: Identity;
  /** ADD: local archives are extracted by content. */
  extractArchives: boolean;
  limits: ArchiveLimits;
  scratchDir: string;
}

/**
 * Perform a COPY/ADD into `upper` (a fresh directory that becomes the layer) over the parent image `lower`,
 * with Docker's destination rules (copy.go performCopyForInfo): a directory source copies its contents; a
 * file goes to dest/<name> when dest ends in `/` or is an existing directory, else to dest itself.
 * The destination is resolved inside the image root, following the image's own symlinks there.
 */
export async function performCopy(upperRoot: string, lowerRoot: string, req: CopyRequest): Promise<void> {
  const upper = new UpperDir(upperRoot, lowerRoot);
  const destRel = await resolveInRoot(lowerRoot, req.dest);
  const endsInSlash = req.dest.endsWith('/');
  for (const source of req.sources) {
    const src = path.join(req.sourceRoot, source.rel);
    if (source.isDir) {
      const created = await upper.ensureDir(destRel, req.owner);
      await copyTree(upper, src, destRel, req.owner);
      if (created) await upper.finishDir(destRel, await fs.lstat(src), req.owner);
      continue;
    }
    if (req.extractArchives && (await isArchive(src, req.limits))) {
      await extractArchive(upper, src, destRel, req);
      continue;
    }
    const intoDir = endsInSlash || (destRel !== '' && (await upper.isDir(destRel))) || destRel === '';
    const target = intoDir ? joinRel(destRel, path.posix.basename(source.named)) : destRel;
    await upper.copyEntry(src, await fs.lstat(src), target, req.owner);
  }
}

async function copyTree(upper: UpperDir, srcDir: string, destRel: string, owner: Identity): Promise<void> {
  for (const name of (await fs.readdir(srcDir)).sort()) {
    const src = path.join(srcDir, name);
    const st = await fs.lstat(src);
    const rel = joinRel(destRel, name);
    if (st.isDirectory()) {
      await upper.ensureDir(rel, owner);
      await copyTree(upper, src, rel, owner);
      await upper.finishDir(rel, st, owner);
    } else {
      await upper.copyEntry(src, st, rel, owner);
    }
  }
}

/** Docker's isArchivePath: the file decompresses (gzip here) to something whose first tar header parses. */
async function isArchive(file: string, limits: ArchiveLimits): Promise<boolean> {
  const stream = await openMaybeGzip(createReadStream(file));
  let head = Buffer.alloc(0);
  try {
    for await (const chunk of stream) {
      head = Buffer.concat([head, chunk as Buffer]);
      if (head.length >= 512) break;
    }
  } catch {
    return false;
  } finally {
    stream.destroy();
  }
  return limits.maxBytes > 0 && head.length >= 512 && validTarHeader(head.subarray(0, 512));
}

function validTarHeader(block: Buffer): boolean {
  if (block.every((b) => b === 0)) return false;
  const stored = parseInt(block.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/, '').trim(), 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  return stored === sum;
}

/** Extract a (hostile) archive with the safe tar reader into scratch space, then merge it into the layer. */
async function extractArchive(upper: UpperDir, file: string, destRel: string, req: CopyRequest): Promise<void> {
  const scratch = await mkdtemp(path.join(req.scratchDir, 'add-'));
  try {
    await applyLayer(clampArchiveNames(createReadStream(file)), scratch, { limits: req.limits, label: 'ADD archive' });
    await upper.ensureDir(destRel, null);
    await copyTree(upper, scratch, destRel, null);
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

function joinRel(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}
