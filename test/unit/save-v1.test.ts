import { createReadStream } from 'node:fs';
import path from 'node:path';
import tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../runtime/image/config.ts';
import { goTime, v1Layers } from '../../runtime/image/save-v1.ts';
import { REPO_ROOT } from '../helpers/engine.ts';

const FIXTURE = path.join(REPO_ROOT, 'test/fixtures/docker-save/dockerd-20.10-save.tar');

/** Every entry of a (small) tar: name → { type, linkname, content }. */
async function readTar(file: string): Promise<Map<string, { type: string; linkname: string; body: Buffer }>> {
  const out = new Map<string, { type: string; linkname: string; body: Buffer }>();
  const extract = tarStream.extract();
  createReadStream(file).pipe(extract);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    out.set(entry.header.name, { type: entry.header.type, linkname: entry.header.linkname ?? '', body: Buffer.concat(chunks) });
  }
  return out;
}

describe('docker save v1 layer IDs', () => {
  it('match what dockerd 20.10 wrote, byte for byte, for every layer of every image', async () => {
    const files = await readTar(FIXTURE);
    const manifest = JSON.parse(files.get('manifest.json')!.body.toString()) as Array<{ Config: string; Layers: string[] }>;
    expect(manifest).toHaveLength(2);
    for (const item of manifest) {
      const config = parseConfig(files.get(item.Config)!.body);
      const layers = v1Layers(config);
      expect(layers.map((l) => `${l.id}/layer.tar`)).toEqual(item.Layers);
      for (const l of layers) expect(l.json).toBe(files.get(`${l.id}/json`)!.body.toString());
    }
  });

  it('shares the base layer as a symlink under its second v1 ID, like dockerd', async () => {
    const files = await readTar(FIXTURE);
    const link = files.get('5f8aad38e6eed38c6b584267b6b3f30d14c262562d850a476f9358674ca10eb6/layer.tar')!;
    expect(link.type).toBe('symlink');
    expect(link.linkname).toBe('../04ccf886dae6a8965014a53b6fe74d99ba6a97e7182a74cfa7168badcbeca2ce/layer.tar');
  });

  it('formats timestamps as Go does', () => {
    expect(goTime('2026-11-22T22:47:31.940868470Z')).toBe('2026-11-22T22:47:31.94086847Z');
    expect(goTime('2026-11-22T22:47:31.000Z')).toBe('2026-11-22T22:47:31Z');
    expect(goTime('2026-11-22T22:47:31+02:00')).toBe('2026-11-22T22:47:31+02:00');
    expect(goTime(undefined)).toBe('0001-01-01T00:00:00Z');
  });
});
