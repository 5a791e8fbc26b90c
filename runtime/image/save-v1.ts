import type { ImageConfig } from './config.ts';
import { goJson } from './config.ts';
import { encodeGoContainerConfig as goContainerConfig } from './go-shapes.ts';
import { chainIds, hexOf, sha256, type Digest } from '../util/digest.ts';

/**
 * The legacy v1 layer metadata `docker save` (20.10) writes next to each layer.tar: `<v1id>/json` and the
 * v1 ID itself, computed exactly as moby's image/v1 CreateID does, so archives we write name their layer
 * directories like the real daemon's and old tools that read `repositories` keep working.
 */
export interface V1Layer {
  /** 64-hex v1 ID: the layer's directory name in the archive. */
  id: string;
  /** Contents of `<v1id>/json`. */
  json: string;
  chainId: Digest;
  diffId: Digest;
}

/** Go's `time.Unix(0, 0)` in a UTC daemon: the `created` of every layer except the top one. */
const EPOCH = '1970-01-01T00:00:00Z';

/** The v1 layers of an image, base first. */
export function v1Layers(config: ImageConfig): V1Layer[] {
  const diffIds = config.rootfs.diff_ids;
  const chains = chainIds(diffIds);
  const out: V1Layer[] = [];
  let parent: Digest | undefined;
  diffIds.forEach((diffId, i) => {
    const top = i === diffIds.length - 1;
    // moby builds the ID from the v1 fields before it sets `os` on non-top layers, so only the top has it there.
    const fields: Field[] = top ? imageV1Fields(config) : [['created', goJson(EPOCH)], ['container_config', goContainerConfig(undefined)]];
    const id = createId(fields, chains[i]!, parent);
    const json = marshalV1(hexOf(id), parent ? hexOf(parent) : undefined, fields, top ? undefined : config.os);
    out.push({ id: hexOf(id), json, chainId: chains[i]!, diffId });
    parent = id;
  });
  return out;
}

type Field = [key: string, raw: string];

/** moby `v1.CreateID`: sha256 of the v1 JSON (without `id`) re-marshalled as a map, plus layer_id and parent. */
function createId(fields: Field[], chainId: Digest, parent: Digest | undefined): Digest {
  const all: Field[] = [...fields, ['layer_id', goJson(chainId)]];
  if (parent) all.push(['parent', goJson(parent)]);
  all.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sha256(`{${all.map(([k, v]) => `${goJson(k)}:${v}`).join(',')}}`);
}

/** `json.Marshal(V1Image)` with id and parent set, in the struct's field order. */
function marshalV1(id: string, parent: string | undefined, fields: Field[], os: string | undefined): string {
  const all: Field[] = [['id', goJson(id)]];
  if (parent) all.push(['parent', goJson(parent)]);
  all.push(...fields);
  if (os) {
    const at = all.findIndex(([k]) => k === 'Size');
    all.splice(at === -1 ? all.length : at, 0, ['os', goJson(os)]);
  }
  return `{${all.map(([k, v]) => `${goJson(k)}:${v}`).join(',')}}`;
}

/** The V1Image fields of an image config, as Go marshals them (struct order, omitempty). */
function imageV1Fields(config: ImageConfig): Field[] {
  const raw = config as unknown as Record<string, unknown>;
  const fields: Field[] = [];
  const str = (key: string, always = false) => {
    const v = typeof raw[key] === 'string' ? (raw[key] as string) : '';
    if (always || v !== '') fields.push([key, goJson(v)]);
  };
  str('comment');
  fields.push(['created', goJson(goTime(config.created))]);
  str('container');
  fields.push(['container_config', goContainerConfig(config.container_config)]);
  str('docker_version');
  str('author');
  if (config.config) fields.push(['config', goContainerConfig(config.config)]);
  str('architecture');
  str('variant');
  str('os');
  if (typeof raw.Size === 'number' && raw.Size !== 0) fields.push(['Size', String(raw.Size)]);
  return fields;
}

/** Go's RFC3339Nano form of a parsed timestamp: trailing fraction zeros dropped, a zero offset as `Z`. */
export function goTime(value: string | undefined): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(value ?? '');
  if (!m) return '0001-01-01T00:00:00Z';
  const fraction = (m[2] ?? '').slice(0, 9).replace(/0+$/, '');
  const zone = m[3] === '+00:00' || m[3] === '-00:00' ? 'Z' : m[3];
  return `${m[1]}${fraction ? `.${fraction}` : ''}${zone}`;
}
