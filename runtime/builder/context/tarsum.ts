import { createHash, type Hash } from 'node:crypto';
import type { Header } from 'tar-stream';

const TYPEFLAGS: Record<string, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  'character-device': '3',
  'block-device': '4',
  directory: '5',
  fifo: '6',
  'contiguous-file': '7',
};

/** A v1 TarSum header as Docker writes it: name, mode, uid, gid, size, typeflag, linkname, blank uname/gname, dev numbers, sorted xattrs. */
export interface TarSumHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  typeflag: string;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Record<string, string>;
}

/**
 * Start the per-entry TarSum v1 hash that the classic builder keys COPY/ADD sources on (moby pkg/tarsum,
 * v1TarHeaderSelect): the header fields above (mtime left out, uname/gname blanked), then the content.
 */
export function tarSumHash(h: TarSumHeader): Hash {
  const hash = createHash('sha256');
  const fields: Array<[string, string]> = [
    ['name', h.name],
    ['mode', String(h.mode)],
    ['uid', String(h.uid)],
    ['gid', String(h.gid)],
    ['size', String(h.size)],
    ['typeflag', h.typeflag],
    ['linkname', h.linkname],
    ['uname', ''],
    ['gname', ''],
    ['devmajor', String(h.devmajor)],
    ['devminor', String(h.devminor)],
  ];
  for (const key of Object.keys(h.xattrs).sort()) fields.push([key, h.xattrs[key]!]);
  for (const [k, v] of fields) hash.update(k + v);
  return hash;
}

/** The TarSum header of a tar-stream header, exactly as received (mode bits as the client wrote them). */
export function headerOf(header: Header): TarSumHeader {
  const xattrs: Record<string, string> = {};
  for (const [k, v] of Object.entries((header.pax ?? {}) as Record<string, unknown>)) {
    if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice('SCHILY.xattr.'.length)] = String(v);
  }
  return {
    name: header.name,
    mode: header.mode ?? 0,
    uid: header.uid ?? 0,
    gid: header.gid ?? 0,
    size: header.size ?? 0,
    typeflag: TYPEFLAGS[header.type ?? 'file'] ?? '0',
    linkname: header.linkname ?? '',
    devmajor: header.devmajor ?? 0,
    devminor: header.devminor ?? 0,
    xattrs,
  };
}
