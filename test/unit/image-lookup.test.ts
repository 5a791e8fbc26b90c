import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError } from '../../runtime/errors.ts';
import { isImageIdPrefix, isSingleReference } from '../../runtime/image/delete-rules.ts';
import { getImage } from '../../runtime/image/get-image.ts';
import { canonicalString, familiarString, parseReference } from '../../runtime/image/reference.ts';
import { refsOf, toImageRef } from '../../runtime/image/refs.ts';
import { Namespace } from '../../runtime/store/namespace.ts';
import type { Digest } from '../../runtime/util/digest.ts';

const A = `sha256:${'ab12'.repeat(16)}` as Digest;
const B = `sha256:${'ab34'.repeat(16)}` as Digest;
const DIGEST = `sha256:${'5'.repeat(64)}`;
let dir: string;
let ns: Namespace;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'layerlab-lookup-'));
  ns = await Namespace.open(dir, 'default');
  await ns.update((d) => {
    d.images[A] = { added: '2024-01-01T00:00:00Z' };
    d.images[B] = { added: '2024-01-01T00:00:00Z' };
    d.tags['docker.io/library/busybox:latest'] = A;
    d.tags['docker.io/library/busybox:1'] = A;
    d.tags['docker.io/learner/app:v1'] = B;
    d.tags['localhost:5000/x/y:latest'] = B;
    d.digests[`docker.io/library/busybox@${DIGEST}`] = A;
  });
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

function failure(input: string): { code: string; message: string } {
  try {
    getImage(ns, input);
  } catch (err) {
    if (err instanceof EngineError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error(`${input} resolved`);
}

describe('references', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox', 'busybox'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['learner/app', 'docker.io/learner/app', 'learner/app'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox', 'busybox'],
    ['localhost:5000/x/y:2', 'localhost:5000/x/y:2', 'localhost:5000/x/y:2'],
    ['Registry.Example/a', 'Registry.Example/a', 'Registry.Example/a'],
  ])('%s is %s, shown as %s', (input, canonical, familiar) => {
    const ref = parseReference(input);
    expect(canonicalString(ref)).toBe(canonical);
    expect(familiarString(ref)).toBe(familiar);
  });

  it.each([
    ['UPPER', 'invalid reference format: repository name must be lowercase'],
    ['a:b:c', 'invalid reference format'],
    ['x:-y', 'invalid reference format'],
    ['x@sha256:123', 'invalid reference format'],
  ])('refuses %s with "%s"', (input, message) => {
    expect(() => parseReference(input)).toThrow(message);
  });
});

describe('getImage (dockerd GetImage)', () => {
  it('finds images by name, digest, full ID and unique ID prefix', () => {
    expect(getImage(ns, 'busybox').id).toBe(A);
    expect(getImage(ns, 'docker.io/library/busybox:1').id).toBe(A);
    expect(getImage(ns, `busybox@${DIGEST}`).id).toBe(A);
    expect(getImage(ns, 'learner/app:v1').id).toBe(B);
    expect(getImage(ns, 'localhost:5000/x/y').id).toBe(B);
    expect(getImage(ns, A).id).toBe(A);
    expect(getImage(ns, A.slice(7)).id).toBe(A);
    expect(getImage(ns, 'ab12').id).toBe(A);
    expect(getImage(ns, 'sha256:ab34').id).toBe(B);
  });

  it('reports misses with the daemon texts', () => {
    expect(failure('nosuch')).toEqual({ code: 'NOT_FOUND', message: 'No such image: nosuch:latest' });
    expect(failure('learner/app')).toEqual({ code: 'NOT_FOUND', message: 'No such image: learner/app:latest' });
    expect(failure('ab')).toEqual({ code: 'NOT_FOUND', message: 'No such image: ab:latest' }); // ambiguous prefix
    expect(failure('sha256:abc')).toEqual({ code: 'NOT_FOUND', message: 'No such image: sha256:abc' });
    expect(failure('f'.repeat(64))).toEqual({ code: 'NOT_FOUND', message: `No such image: sha256:${'f'.repeat(64)}` });
    expect(failure(`x@${DIGEST}`)).toEqual({ code: 'NOT_FOUND', message: `No such image: x@${DIGEST}` });
    expect(failure('UPPER')).toEqual({ code: 'INVALID', message: 'invalid reference format: repository name must be lowercase' });
  });
});

describe('image references', () => {
  it('lists tags and digests sorted by canonical string, shown familiar', () => {
    const refs = refsOf(ns.snapshot(), A);
    expect(refs.map((r) => r.familiar)).toEqual(['busybox:1', 'busybox:latest', `busybox@${DIGEST}`]);
    expect(refs.map((r) => r.digested)).toEqual([false, false, true]);
    expect(refsOf(ns.snapshot(), B).map((r) => r.familiar)).toEqual(['learner/app:v1', 'localhost:5000/x/y:latest']);
  });

  it('calls one tag plus digests of its repository a single reference', () => {
    const ref = (s: string) => toImageRef(s);
    expect(isSingleReference([])).toBe(false);
    expect(isSingleReference([ref('docker.io/library/a:1')])).toBe(true);
    expect(isSingleReference([ref('docker.io/library/a:1'), ref(`docker.io/library/a@${DIGEST}`)])).toBe(true);
    expect(isSingleReference([ref('docker.io/library/a:1'), ref('docker.io/library/a:2')])).toBe(false);
    expect(isSingleReference([ref('docker.io/library/a:1'), ref(`docker.io/library/b@${DIGEST}`)])).toBe(false);
  });

  it('treats ID prefixes with or without sha256: as IDs', () => {
    expect(isImageIdPrefix(A, 'ab12ab')).toBe(true);
    expect(isImageIdPrefix(A, 'sha256:ab12')).toBe(true);
    expect(isImageIdPrefix(A, 'busybox')).toBe(false);
  });
});
