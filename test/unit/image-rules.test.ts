import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { noContainers, type ImageContext, type ImageUser } from '../../runtime/image/context.ts';
import { imageDiskUsage } from '../../runtime/image/disk-usage.ts';
import { imageHistory } from '../../runtime/image/history.ts';
import { inspectImage } from '../../runtime/image/inspect.ts';
import { listImages } from '../../runtime/image/list.ts';
import { pruneImages } from '../../runtime/image/prune.ts';
import { removeImage } from '../../runtime/image/remove.ts';
import { tagImage } from '../../runtime/image/tag.ts';
import { chainIds, shortId, type Digest } from '../../runtime/util/digest.ts';
import { StoreImages } from '../helpers/store-images.ts';

/**
 * Docker's parent/child rules on a real store: base:1 ← mid (untagged, a COPY layer) ← app:1 and app:2
 * (LABEL steps, no layer of their own), as the classic builder leaves them.
 */
let s: StoreImages;
let users: Map<Digest, ImageUser[]>;
let ctx: ImageContext;
let base: Digest;
let mid: Digest;
let app1: Digest;
let app2: Digest;

beforeEach(async () => {
  s = await StoreImages.open();
  users = new Map();
  ctx = { store: s.store, ns: s.ns, containersUsingImage: (id) => users.get(id) ?? [] };
  base = await s.add({ layers: [{ 'base.txt': 'base' }], step: 'ADD base', tags: ['base:1'], created: '2024-01-01T00:00:00Z' });
  mid = await s.add({ parent: base, layers: [{ 'x.txt': 'xx' }], step: 'COPY x.txt /x.txt', created: '2024-01-02T00:00:00Z' });
  app1 = await s.add({ parent: mid, step: 'LABEL a=b', labels: { a: 'b' }, tags: ['app:1'], created: '2024-01-03T00:00:00Z' });
  app2 = await s.add({ parent: mid, step: 'LABEL a=c', labels: { a: 'c' }, tags: ['app:2'], created: '2024-01-04T00:00:00Z' });
});
afterEach(() => s.close());

const list = (all = false, filters: Record<string, string[]> = {}) => listImages(ctx, { all, filters: new Map(Object.entries(filters)) });
const rows = async (all = false, filters: Record<string, string[]> = {}) =>
  (await list(all, filters)).map((i) => `${i.RepoTags?.join(',')} ${shortId(i.Id)}`);
const chains = async (id: Digest) => chainIds((await s.store.imageConfig(id)).rootfs.diff_ids);
const layerDirExists = (chain: Digest) => fs.access(path.join(s.store.root, 'layers', chain.slice(7))).then(() => true, () => false);
async function rejection(p: Promise<unknown>): Promise<string> {
  return p.then(() => 'resolved', (err: Error & { code?: string }) => `${err.code}: ${err.message}`);
}

describe('listing', () => {
  it('hides untagged intermediates unless -a, newest first', async () => {
    expect(await rows()).toEqual([`app:2 ${shortId(app2)}`, `app:1 ${shortId(app1)}`, `base:1 ${shortId(base)}`]);
    const all = await list(true);
    expect(all.map((i) => i.Id)).toEqual([app2, app1, mid, base]);
    expect(all[2]).toMatchObject({ RepoTags: ['<none>:<none>'], RepoDigests: ['<none>@<none>'], ParentId: base, Size: 6, Containers: -1, SharedSize: -1 });
    expect(all[0]).toMatchObject({ RepoTags: ['app:2'], RepoDigests: null, ParentId: mid, Labels: { a: 'c' }, Created: 1704326400 });
  });

  it('applies dangling, label, before/since and reference filters', async () => {
    expect(await rows(true, { dangling: ['true'] })).toEqual([]);
    expect(await rows(true, { dangling: ['false'] })).toHaveLength(3);
    expect(await rows(false, { label: ['a=b'] })).toEqual([`app:1 ${shortId(app1)}`]);
    expect(await rows(false, { before: ['app:1'] })).toEqual([`base:1 ${shortId(base)}`]);
    expect(await rows(false, { since: ['app:1'] })).toEqual([`app:2 ${shortId(app2)}`]);
    expect(await rows(false, { reference: ['app:*'] })).toEqual([`app:2 ${shortId(app2)}`, `app:1 ${shortId(app1)}`]);
    expect(await rows(false, { reference: ['base'] })).toEqual([`base:1 ${shortId(base)}`]);
    await expect(list(false, { before: ['nosuch'] })).rejects.toThrow('No such image: nosuch:latest');
    await expect(list(false, { reference: ['['] })).rejects.toThrow('syntax error in pattern');
  });

  it('lists an untagged image without children as dangling', async () => {
    await tagImage(ctx, 'app:1', 'app', '2');
    expect(await rows(false, { dangling: ['true'] })).toEqual([`<none>:<none> ${shortId(app2)}`]);
    expect(await rows(false, { dangling: ['false'] })).toEqual([`app:1,app:2 ${shortId(app1)}`, `base:1 ${shortId(base)}`]);
  });
});

describe('history', () => {
  it('walks the parent chain for IDs and sizes each layer', async () => {
    const h = await imageHistory(ctx, 'app:1');
    expect(h.map((i) => [i.Id, i.CreatedBy, i.Size, i.Tags])).toEqual([
      [app1, 'LABEL a=b', 0, ['app:1']],
      [mid, 'COPY x.txt /x.txt', 2, null],
      [base, 'ADD base', 4, ['base:1']],
    ]);
    expect(h[0]!.Created).toBe(1704240000);
  });

  it('shows <missing> beyond the last local parent', async () => {
    const orphan = await s.add({ layers: [{ 'o.txt': 'o' }, { 'p.txt': 'pp' }], step: 'RUN make', tags: ['orphan:1'] });
    expect((await imageHistory(ctx, 'orphan:1')).map((i) => i.Id)).toEqual([orphan, '<missing>']);
  });
});

describe('rmi', () => {
  it('refuses images with children, even forced', async () => {
    const msg = `CONFLICT: conflict: unable to delete ${shortId(mid)} (cannot be forced) - image has dependent child images`;
    expect(await rejection(removeImage(ctx, shortId(mid), { force: false, prune: true }))).toBe(msg);
    expect(await rejection(removeImage(ctx, mid, { force: true, prune: true }))).toBe(msg);
    expect(await rejection(removeImage(ctx, 'nosuch', { force: false, prune: true }))).toBe('NOT_FOUND: No such image: nosuch:latest');
    expect(await list(true)).toHaveLength(4);
  });

  it('untags only while other tags remain, then deletes the image and its unused parents and layers', async () => {
    const copyLayer = (await chains(mid))[1]!;
    expect(await removeImage(ctx, 'app:2', { force: false, prune: true })).toEqual([{ Untagged: 'app:2' }, { Deleted: app2 }]);
    expect(await layerDirExists(copyLayer)).toBe(true);
    expect(await removeImage(ctx, 'app:1', { force: false, prune: true })).toEqual([
      { Untagged: 'app:1' },
      { Deleted: app1 },
      { Deleted: mid },
      { Deleted: copyLayer },
    ]);
    expect(await layerDirExists(copyLayer)).toBe(false);
    expect(await layerDirExists((await chains(base))[0]!)).toBe(true);
    expect(await rows(true)).toEqual([`base:1 ${shortId(base)}`]);
  });

  it('keeps parents with --no-prune', async () => {
    await removeImage(ctx, 'app:2', { force: false, prune: false });
    expect(await removeImage(ctx, 'app:1', { force: false, prune: false })).toEqual([{ Untagged: 'app:1' }, { Deleted: app1 }]);
    expect(await rows(false, { dangling: ['true'] })).toEqual([`<none>:<none> ${shortId(mid)}`]);
  });

  it('needs force to delete by ID an image in several repositories', async () => {
    const solo = await s.add({ layers: [{ 's.txt': 'sss' }], tags: ['solo:1', 'other/solo:2'] });
    const [soloLayer] = await chains(solo);
    const multi = `CONFLICT: conflict: unable to delete ${shortId(solo)} (must be forced) - image is referenced in multiple repositories`;
    expect(await rejection(removeImage(ctx, shortId(solo), { force: false, prune: true }))).toBe(multi);
    expect(await removeImage(ctx, shortId(solo), { force: true, prune: true })).toEqual([
      { Untagged: 'solo:1' },
      { Untagged: 'other/solo:2' },
      { Deleted: solo },
      { Deleted: soloLayer },
    ]);
  });

  it('drops digest references of a repository once its last tag goes', async () => {
    const digest = `sha256:${'d'.repeat(64)}`;
    const solo = await s.add({ layers: [{ 's.txt': 'sss' }], tags: ['solo:1'] });
    await s.ns.update((d) => {
      d.digests[`docker.io/library/solo@${digest}`] = solo;
    });
    expect((await list()).find((i) => i.Id === solo)?.RepoDigests).toEqual([`solo@${digest}`]);
    const records = await removeImage(ctx, 'solo:1', { force: false, prune: true });
    expect(records.slice(0, 3)).toEqual([{ Untagged: 'solo:1' }, { Untagged: `solo@${digest}` }, { Deleted: solo }]);
  });
});

describe('containers using images', () => {
  const stopped = { id: 'c'.repeat(64), running: false };
  const running = { id: 'e'.repeat(64), running: true };

  it('produces the daemon conflict texts', async () => {
    users.set(app1, [stopped]);
    expect(await rejection(removeImage(ctx, 'app:1', { force: false, prune: true }))).toBe(
      `CONFLICT: conflict: unable to remove repository reference "app:1" (must force) - container cccccccccccc is using its referenced image ${shortId(app1)}`,
    );
    expect(await rejection(removeImage(ctx, shortId(app1), { force: false, prune: true }))).toBe(
      `CONFLICT: conflict: unable to delete ${shortId(app1)} (must be forced) - image is being used by stopped container cccccccccccc`,
    );
    users.set(app1, [running]);
    expect(await rejection(removeImage(ctx, shortId(app1), { force: true, prune: true }))).toBe(
      `CONFLICT: conflict: unable to delete ${shortId(app1)} (cannot be forced) - image is being used by running container eeeeeeeeeeee`,
    );
  });

  it('rmi -f of a name untags but keeps an image a running container uses', async () => {
    users.set(app1, [running]);
    expect(await removeImage(ctx, 'app:1', { force: true, prune: true })).toEqual([{ Untagged: 'app:1' }]);
    expect((await list(true)).map((i) => i.Id)).toContain(app1);
  });

  it('force-deletes an image a stopped container uses', async () => {
    users.set(app2, [stopped]);
    expect(await removeImage(ctx, shortId(app2), { force: true, prune: true })).toEqual([{ Untagged: 'app:2' }, { Deleted: app2 }]);
  });

  it('counts containers in system df and skips used images in prune -a', async () => {
    users.set(app1, [stopped]);
    const df = await imageDiskUsage(ctx);
    expect(df.Images.map((i) => [i.RepoTags?.[0], i.Containers])).toEqual([
      ['app:2', 0],
      ['app:1', 1],
      ['base:1', 0],
    ]);
    const report = await pruneImages(ctx, new Map([['dangling', ['false']]]));
    expect(report.ImagesDeleted).toEqual([{ Untagged: 'app:2' }, { Deleted: app2 }, { Untagged: 'base:1' }]);
    expect(await rows(true)).toEqual([`app:1 ${shortId(app1)}`, `<none>:<none> ${shortId(mid)}`, `<none>:<none> ${shortId(base)}`]);
  });
});

describe('prune', () => {
  it('removes dangling images and their unused parents, reporting reclaimed layer bytes', async () => {
    const copyLayer = (await chains(mid))[1]!;
    expect(await pruneImages(ctx, new Map())).toEqual({ ImagesDeleted: null, SpaceReclaimed: 0 });
    await tagImage(ctx, 'base:1', 'app', '1');
    await tagImage(ctx, 'base:1', 'app', '2');
    expect(await pruneImages(ctx, new Map([['dangling', ['true']]]))).toEqual({
      ImagesDeleted: [{ Deleted: app2 }, { Deleted: app1 }, { Deleted: mid }, { Deleted: copyLayer }],
      SpaceReclaimed: 2,
    });
  });

  it('honours label and until filters', async () => {
    await tagImage(ctx, 'base:1', 'app', '1');
    await tagImage(ctx, 'base:1', 'app', '2');
    expect((await pruneImages(ctx, new Map([['label', ['a=c']]]))).ImagesDeleted).toEqual([{ Deleted: app2 }]);
    expect((await pruneImages(ctx, new Map([['until', ['2024-01-02T12:00:00Z']]]))).ImagesDeleted).toBeNull();
    expect((await pruneImages(ctx, new Map([['until', ['2024-01-03T12:00:00Z']]]))).ImagesDeleted?.[0]).toEqual({ Deleted: app1 });
    await expect(pruneImages(ctx, new Map([['nope', ['1']]]))).rejects.toThrow("Invalid filter 'nope'");
  });
});

describe('inspect, tag and disk usage', () => {
  it('inspects with parent, sizes and Go-shaped configs', async () => {
    const out = await inspectImage(ctx, 'app:1');
    expect(Object.keys(out)).toEqual([
      'Id', 'RepoTags', 'RepoDigests', 'Parent', 'Comment', 'Created', 'Container', 'ContainerConfig', 'DockerVersion', 'Author', 'Config',
      'Architecture', 'Os', 'Size', 'VirtualSize', 'GraphDriver', 'RootFS', 'Metadata',
    ]);
    expect(out).toMatchObject({ Id: app1, RepoTags: ['app:1'], RepoDigests: [], Parent: mid, Created: '2024-01-03T00:00:00Z', Size: 6 });
    expect(out.Config).toEqual({
      Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false, OpenStdin: false,
      StdinOnce: false, Env: ['PATH=/bin'], Cmd: ['sh'], Image: '', Volumes: null, WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: { a: 'b' },
    });
    await expect(inspectImage(ctx, 'nosuch')).rejects.toThrow('no such image: nosuch: No such image: nosuch:latest');
  });

  it('tags with dockerd checks and texts', async () => {
    expect(await tagImage(ctx, shortId(base), 'localhost:5000/x/base', '')).toBe('localhost:5000/x/base:latest');
    expect(await tagImage(ctx, 'base:1', 'app:3', '')).toBe('app:3');
    expect((await inspectImage(ctx, 'base:1')).RepoTags).toEqual(['app:3', 'base:1', 'localhost:5000/x/base:latest']);
    expect(await rejection(tagImage(ctx, 'base:1', 'X', ''))).toBe('INTERNAL: invalid reference format: repository name must be lowercase');
    expect(await rejection(tagImage(ctx, 'base:1', 'x', '-y'))).toBe('INTERNAL: invalid tag format');
    expect(await rejection(tagImage(ctx, 'base:1', 'sha256', 'x'))).toBe('INVALID: refusing to create an ambiguous tag using digest algorithm as name');
    expect(await rejection(tagImage(ctx, 'base:1', `x@sha256:${'1'.repeat(64)}`, ''))).toBe('INVALID: refusing to create a tag with a digest reference');
    expect(await rejection(tagImage(ctx, 'nosuch', 'x', ''))).toBe('NOT_FOUND: No such image: nosuch:latest');
  });

  it('sizes layers per namespace and shared layers per image', async () => {
    const df = await imageDiskUsage({ ...ctx, containersUsingImage: noContainers });
    expect(df.LayersSize).toBe(6);
    expect(df.Images.map((i) => [i.RepoTags?.[0], i.Size, i.SharedSize])).toEqual([
      ['app:2', 6, 6],
      ['app:1', 6, 6],
      ['base:1', 4, 4],
    ]);
  });

  it('leaves layers another namespace still uses, and does not report them', async () => {
    const other = await s.store.namespace('other');
    await other.update((d) => {
      d.images[app1] = { added: '2024-01-01T00:00:00Z' };
      d.tags['docker.io/library/kept:1'] = app1;
    });
    await removeImage(ctx, 'app:2', { force: false, prune: true });
    const records = await removeImage(ctx, 'app:1', { force: false, prune: true });
    expect(records).toEqual([{ Untagged: 'app:1' }, { Deleted: app1 }, { Deleted: mid }]);
    expect(await layerDirExists((await chains(app1))[1]!)).toBe(true);
    expect((await imageDiskUsage({ ...ctx, ns: other })).LayersSize).toBe(6);
  });
});
