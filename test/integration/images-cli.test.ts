import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WrittenLayer } from '../../runtime/catalog/oci-writer.ts';
import { chainIds, shortId, type Digest } from '../../runtime/util/digest.ts';
import { DOCKER_20, DOCKER_28, startEngine, type TestEngine } from '../helpers/engine.ts';
import { TestCatalog } from '../helpers/oci-layout.ts';

/**
 * `docker images`, `image inspect`, `history`, `tag`, `rmi`, `image prune` and `system df` through the real
 * docker CLIs (20.10 and 28) against a real engine, on a small catalog of known images. Expected outputs
 * were checked against dockerd 20.10 holding the same images (same IDs, loaded with `docker load`).
 */
const DAY = 86_400_000;
let catalog: TestCatalog;
let base: WrittenLayer;
let top: WrittenLayer;
let hfbox: Digest;
let built: Digest;
let hfCreated: string;

beforeAll(async () => {
  catalog = await TestCatalog.create();
  base = await catalog.layer({ 'hello.txt': 'hello\n', 'bin/data': 'data\n' });
  top = await catalog.layer({ 'x.txt': 'x\n' });
  hfCreated = new Date(Date.now() - 3 * DAY).toISOString().replace('Z', '123456Z');
  hfbox = await catalog.image(['hfbox:latest', 'hfbox:1'], [base], { created: hfCreated, comment: 'hf import', createdBy: ['ADD base /'] });
  built = await catalog.image(['built:1'], [base, top], {
    created: new Date(Date.now() - 2 * DAY).toISOString(),
    config: { Cmd: ['cat', '/x.txt'], Labels: { a: 'b' } },
    createdBy: ['ADD base /', 'COPY x.txt /x.txt'],
  });
  await catalog.finish();
});
afterAll(() => catalog.remove());

/** Table output as rows of columns (the CLI pads columns with at least two spaces). */
function table(stdout: string): string[][] {
  return stdout.trimEnd().split('\n').map((line) => line.trimEnd().split(/ {2,}/));
}

describe.each([
  ['20.10', DOCKER_20],
  ['28', DOCKER_28],
])('docker %s CLI', (_name, cli) => {
  let engine: TestEngine;
  const docker = (...args: string[]) => engine.docker(args, { cli });
  const ok = (...args: string[]) => {
    const r = docker(...args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  };
  const fails = (args: string[], stderr: string, stdout = '') => {
    const r = docker(...args);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 1, stdout, stderr: `${stderr}\n` });
  };

  beforeAll(async () => {
    if (!cli) throw new Error('no docker 28 CLI on this machine');
    engine = await startEngine('images-cli', { catalogDir: catalog.dir });
  });
  afterAll(() => engine?.stop());

  it('lists images newest first with the filters and formats of docker images', () => {
    const [h, b] = [shortId(hfbox), shortId(built)];
    expect(table(ok('images'))).toEqual([
      ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'],
      ['built', '1', b, '2 days ago', '13B'],
      ['hfbox', '1', h, '3 days ago', '11B'],
      ['hfbox', 'latest', h, '3 days ago', '11B'],
    ]);
    expect(ok('images', '-q')).toBe(`${b}\n${h}\n${h}\n`);
    expect(ok('images', '-a', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}} {{.Digest}}')).toBe(
      `${built} built:1 <none>\n${hfbox} hfbox:1 <none>\n${hfbox} hfbox:latest <none>\n`,
    );
    expect(ok('images', 'hfbox:1', '--format', '{{.Repository}}:{{.Tag}}')).toBe('hfbox:1\n');
    expect(ok('images', '--filter', 'reference=*:1', '--format', '{{.Repository}}')).toBe('built\nhfbox\n');
    expect(ok('images', '--filter', 'label=a=b', '-q')).toBe(`${b}\n`);
    expect(ok('images', '--filter', 'dangling=true', '-q')).toBe('');
    expect(table(ok('images', '--digests', 'built'))[1]).toEqual(['built', '1', '<none>', b, '2 days ago', '13B']);
    fails(['images', '--filter', 'dangling=maybe'], "Error response from daemon: Invalid filter 'dangling=[maybe]'");
    fails(['images', '--filter', 'reference=['], 'Error response from daemon: syntax error in pattern');
  });

  it('inspects images as JSON and through -f templates', () => {
    const layers = `[${base.diffId} ${top.diffId}]`;
    expect(ok('image', 'inspect', '-f', '{{.Config.Cmd}} {{.RootFS.Layers}} {{.Size}} {{.Config.Labels.a}}', 'built:1')).toBe(`[cat /x.txt] ${layers} 13 b\n`);
    expect(ok('inspect', '-f', '{{.Id}} {{.RepoTags}}', shortId(hfbox))).toBe(`${hfbox} [hfbox:1 hfbox:latest]\n`);
    const [json] = JSON.parse(ok('image', 'inspect', 'hfbox')) as Array<Record<string, unknown>>;
    expect(json).toMatchObject({ Id: hfbox, RepoDigests: [], Parent: '', Comment: 'hf import', Created: hfCreated, Os: 'linux', Size: 11, VirtualSize: 11 });
    expect(json!.RootFS).toEqual({ Type: 'layers', Layers: [base.diffId] });
    fails(['image', 'inspect', 'nosuch'], cli === DOCKER_20 ? 'Error: No such image: nosuch' : 'Error response from daemon: no such image: nosuch: No such image: nosuch:latest', '[]\n');
    fails(['inspect', 'nosuch'], 'Error: No such object: nosuch', '[]\n');
  });

  it('shows history newest first, with <missing> for layers no local image stands for', () => {
    expect(table(ok('history', 'built:1'))).toEqual([
      ['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'],
      [shortId(built), '2 days ago', 'COPY x.txt /x.txt', '2B'],
      ['<missing>', '2 days ago', 'ADD base /', '11B'],
    ]);
    expect(ok('history', '-q', '--no-trunc', 'built:1')).toBe(`${built}\n<missing>\n`);
    expect(ok('history', '-H=false', '--format', '{{.CreatedAt}}|{{.Size}}|{{.Comment}}', 'hfbox')).toBe(`${hfCreated.replace(/\.\d+Z$/, 'Z')}|11|hf import\n`);
    fails(['history', 'nosuch'], 'Error response from daemon: No such image: nosuch:latest');
  });

  it('reports the images part of system df', () => {
    expect(table(ok('system', 'df'))[1]).toEqual(['Images', '2', '0', '13B', '13B (100%)']);
    // One row per image (its first tag), as with dockerd.
    const images = table(ok('system', 'df', '-v')).slice(3, 6);
    expect(images).toEqual([
      ['built', '1', shortId(built), '2 days ago', '13B', '11B', '2B', '0'],
      ['hfbox', '1', shortId(hfbox), '3 days ago', '11B', '11B', '0B', '0'],
      [''],
    ]);
  });

  it('tags images and refuses what Docker refuses', () => {
    expect(ok('tag', 'hfbox', 'learner/box:v1')).toBe('');
    expect(ok('tag', shortId(built), 'localhost:5000/built')).toBe('');
    expect(ok('images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', 'reference=*/*')).toBe('localhost:5000/built:latest\nlearner/box:v1\n');
    fails(['tag', 'nosuch', 'x'], 'Error response from daemon: No such image: nosuch:latest');
    fails(['tag', 'hfbox', 'sha256:x'], 'Error response from daemon: refusing to create an ambiguous tag using digest algorithm as name');
  });

  it('removes tags and images with Docker conflicts and output', () => {
    const h = shortId(hfbox);
    fails(['rmi', h], `Error response from daemon: conflict: unable to delete ${h} (must be forced) - image is referenced in multiple repositories`);
    expect(ok('rmi', 'learner/box:v1', 'localhost:5000/built')).toBe('Untagged: learner/box:v1\nUntagged: localhost:5000/built:latest\n');
    const r = docker('rmi', 'hfbox:1', 'nosuch');
    expect(r).toEqual({
      code: 1,
      stdout: 'Untagged: hfbox:1\n',
      stderr: cli === DOCKER_20 ? 'Error: No such image: nosuch\n' : 'Error response from daemon: No such image: nosuch:latest\n',
    });
    // The base layer stays: built:1 still uses it.
    expect(ok('rmi', '-f', h)).toBe(`Untagged: hfbox:latest\nDeleted: ${hfbox}\n`);
    fails(['rmi', h], cli === DOCKER_20 ? `Error: No such image: ${h}` : `Error response from daemon: No such image: ${h}:latest`);
  });

  it('prunes dangling images, then everything with -a', () => {
    const [baseChain, topChain] = chainIds([base.diffId, top.diffId]);
    expect(ok('image', 'prune', '-f')).toBe('Total reclaimed space: 0B\n');
    expect(ok('tag', 'built:1', 'again:1')).toBe('');
    expect(ok('image', 'prune', '-af', '--filter', 'label=nosuch')).toBe('Total reclaimed space: 0B\n');
    expect(ok('image', 'prune', '-af', '--filter', 'until=72h')).toBe('Total reclaimed space: 0B\n');
    fails(['image', 'prune', '-f', '--filter', 'until=soon'], 'Error response from daemon: failed to parse value as time or duration: "soon"');
    expect(ok('image', 'prune', '-af')).toBe(
      `Deleted Images:\nuntagged: again:1\nuntagged: built:1\ndeleted: ${built}\ndeleted: ${topChain}\ndeleted: ${baseChain}\n\nTotal reclaimed space: 13B\n`,
    );
    expect(ok('images', '-a', '-q')).toBe('');
    expect(table(ok('system', 'df'))[1]).toEqual(['Images', '0', '0', '0B', '0B']);
  });
});
