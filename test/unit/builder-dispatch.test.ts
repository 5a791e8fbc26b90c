import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildEvent, CacheDecision } from '../../runtime/builder/index.ts';
import { shortId } from '../../runtime/util/digest.ts';
import { harness, type Harness } from '../fixtures/builder/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(async () => h.cleanup());

function decisions(events: BuildEvent[]): CacheDecision[] {
  return events.filter((e): e is Extract<BuildEvent, { type: 'cache' }> => e.type === 'cache').map((e) => e.decision);
}

function hits(events: BuildEvent[]): boolean[] {
  return decisions(events).map((d) => d.hit);
}

describe('builder dispatcher over real files (COPY-only; RUN is left to the runtime integration)', () => {
  it('hashes a context file exactly like Docker (TarSum v1) and writes the COPY history string', async () => {
    const { result } = await h.build({ Dockerfile: 'FROM base\nCOPY a.txt /a.txt\n', 'a.txt': 'hello\n' }, { tags: ['tarsum:1'] });
    const config = await h.store.imageConfig(result.image);
    expect(config.history?.at(-1)).toMatchObject({ created_by: '/bin/sh -c #(nop) COPY file:00ec16333078d287782d462baefc8bb9eb0231dc3aefba3ca3e2f7e5cf0cadda in /a.txt ' });
    expect(config.history?.at(-1)?.empty_layer).toBeUndefined();
    expect(config.rootfs.diff_ids).toHaveLength(2);
  });

  it('metadata instructions: history created_by shapes, empty layers and the final config (builder-facts §2.3)', async () => {
    const dockerfile = [
      '# syntax=docker/dockerfile:1',
      'FROM base',
      'ARG V=1',
      'ENV FOO=bar \\',
      '    BAZ="qux quux"',
      'LABEL a=b "c d"=e',
      'MAINTAINER someone <x@y.z>',
      'WORKDIR /app/sub',
      'USER nobody',
      'EXPOSE 80 443/udp',
      'VOLUME /data ["/d2"]',
      'STOPSIGNAL SIGKILL',
      'HEALTHCHECK --interval=5s --timeout=2s CMD echo ok',
      'SHELL ["/bin/sh","-xc"]',
      'ONBUILD RUN echo onbuild',
      'ENTRYPOINT ["/bin/echo"]',
      'CMD hello world',
    ].join('\n');
    const { result } = await h.build({ Dockerfile: dockerfile });
    const config = await h.store.imageConfig(result.image);
    const history = config.history!.slice(1);
    expect(history.map((e) => e.created_by)).toEqual([
      '/bin/sh -c #(nop)  ARG V=1',
      '/bin/sh -c #(nop)  ENV FOO=bar BAZ=qux quux',
      '/bin/sh -c #(nop)  LABEL a=b c d=e',
      '/bin/sh -c #(nop)  MAINTAINER someone <x@y.z>',
      '/bin/sh -c #(nop) WORKDIR /app/sub',
      '/bin/sh -c #(nop)  USER nobody',
      '/bin/sh -c #(nop)  EXPOSE 443/udp 80',
      '/bin/sh -c #(nop)  VOLUME [/data [/d2]]',
      '/bin/sh -c #(nop)  STOPSIGNAL SIGKILL',
      '/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "echo ok"] "5s" "2s" "0s" \'\\x00\'}',
      '/bin/sh -xc #(nop)  SHELL [/bin/sh -xc]',
      '/bin/sh -xc #(nop)  ONBUILD RUN echo onbuild',
      '/bin/sh -xc #(nop)  ENTRYPOINT ["/bin/echo"]',
      '/bin/sh -xc #(nop)  CMD ["/bin/sh" "-xc" "hello world"]',
    ]);
    // WORKDIR created /app/sub (a layer); every other step is an empty layer.
    expect(history.map((e) => e.empty_layer ?? false)).toEqual([true, true, true, true, false, true, true, true, true, true, true, true, true, true]);
    expect(history.slice(4).every((e) => e.author === 'someone <x@y.z>')).toBe(true);
    expect(config.author).toBe('someone <x@y.z>');
    expect(config.config).toMatchObject({
      User: 'nobody',
      ExposedPorts: { '443/udp': {}, '80/tcp': {} },
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'FOO=bar', 'BAZ=qux quux'],
      Cmd: ['/bin/sh', '-xc', 'hello world'],
      Healthcheck: { Test: ['CMD-SHELL', 'echo ok'], Interval: 5e9, Timeout: 2e9 },
      Volumes: { '/data': {}, '[/d2]': {} },
      WorkingDir: '/app/sub',
      Entrypoint: ['/bin/echo'],
      OnBuild: ['RUN echo onbuild'],
      Labels: { a: 'b', 'c d': 'e' },
      StopSignal: 'SIGKILL',
      Shell: ['/bin/sh', '-xc'],
    });
    expect(Object.keys(config.config!)).toEqual(['Hostname', 'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'ExposedPorts', 'Tty', 'OpenStdin', 'StdinOnce', 'Env', 'Cmd', 'Healthcheck', 'Image', 'Volumes', 'WorkingDir', 'Entrypoint', 'OnBuild', 'Labels', 'StopSignal', 'Shell']);
  });

  it('writes the classic JSON stream: steps, containers, cache hits, aux ID, success lines', async () => {
    const files = { Dockerfile: 'FROM base\nCOPY a.txt /a.txt\nENV X=1\n', 'a.txt': 'one\n' };
    const first = await h.build(files, { tags: ['stream:1'] });
    const ids = first.events.filter((e) => e.type === 'step-end').map((e) => shortId((e as { image: string }).image));
    const containers = first.events.filter((e) => e.type === 'container-created').map((e) => shortId((e as { containerId: string }).containerId));
    expect(first.output).toBe(
      [
        'Step 1/3 : FROM base',
        ` ---> ${shortId(h.base)}`,
        'Step 2/3 : COPY a.txt /a.txt',
        ` ---> ${ids[0]}`,
        'Step 3/3 : ENV X=1',
        ` ---> Running in ${containers[0]}`,
        `Removing intermediate container ${containers[0]}`,
        ` ---> ${ids[1]}`,
        `[aux ${first.result.image}]`,
        `Successfully built ${shortId(first.result.image)}`,
        'Successfully tagged stream:1',
        '',
      ].join('\n'),
    );
    const again = await h.build(files, { tags: ['stream:1'] });
    expect(again.result.image).toBe(first.result.image);
    expect(again.output).toContain('Step 2/3 : COPY a.txt /a.txt\n ---> Using cache\n');
    expect(again.output).not.toContain('Running in');
  });

  it('cache: touch → hit; chmod → miss from that COPY on; chmod back → hits the old chain', async () => {
    const df = 'FROM base\nCOPY a.txt /a.txt\nENV X=1\nCOPY b.txt /b.txt\n';
    const ctx = (aMode: number, mtime?: Date) => ({ Dockerfile: df, 'a.txt': { content: 'A\n', mode: aMode, mtime }, 'b.txt': 'B\n' });
    const first = await h.build(ctx(0o644), { tags: ['cache:1'] });
    const touched = await h.build(ctx(0o644, new Date('2001-01-01T00:00:00Z')), { tags: ['cache:1'] });
    expect(hits(touched.events)).toEqual([true, true, true]);
    expect(touched.result.image).toBe(first.result.image);
    const chmod = await h.build(ctx(0o600), { tags: ['cache:1'] });
    expect(hits(chmod.events)).toEqual([false, false, false]);
    const [copy, env, copyB] = decisions(chmod.events);
    expect(copy!.reason).toMatchObject({ kind: 'sources-changed', modified: [{ path: 'a.txt' }] });
    expect(copy!.sentence).toBe('COPY a.txt /a.txt missed: a.txt changed, so this step and every step after it ran again.');
    expect(env!.reason).toEqual({ kind: 'parent-miss', step: 2, instruction: 'COPY a.txt /a.txt' });
    expect(copyB!.reason?.kind).toBe('parent-miss');
    const back = await h.build(ctx(0o644), { tags: ['cache:1'] });
    expect(hits(back.events)).toEqual([true, true, true]);
    expect(back.result.image).toBe(first.result.image);
  });

  it('cache: editing one file misses only from the first COPY that includes it, and says which file', async () => {
    const df = 'FROM base\nWORKDIR /app\nCOPY package.json .\nENV NODE_ENV=production\nCOPY . .\nCMD ["node","server.js"]\n';
    const ctx = (server: string) => ({ Dockerfile: df, 'package.json': '{"name":"app"}\n', 'server.js': server, 'lib/util.js': 'u\n' });
    await h.build(ctx('v1\n'), { tags: ['app:1'] });
    const edited = await h.build(ctx('v2\n'), { tags: ['app:1'] });
    expect(hits(edited.events)).toEqual([true, true, true, false, false]);
    const miss = decisions(edited.events)[3]!;
    expect(miss.reason).toMatchObject({ kind: 'sources-changed', added: [], removed: [], modified: [{ path: 'server.js' }] });
    expect(miss.sentence).toBe('COPY . . missed: server.js changed, so this step and every step after it ran again.');
    expect(decisions(edited.events)[4]!.sentence).toBe('CMD ["node","server.js"] ran again because step 5 (COPY . .) missed the cache, and a miss invalidates every step after it.');
  });

  it('a COPY that misses after a run of hits copies the bytes of this build (held in memory until then)', async () => {
    const df = 'FROM base\nCOPY big.bin /big.bin\nENV X=1\nCOPY b.txt /b.txt\n';
    const big = 'x'.repeat(3 * 1024 * 1024);
    const first = await h.build({ Dockerfile: df, 'big.bin': big, 'b.txt': 'old\n' }, { tags: ['held:1'] });
    const second = await h.build({ Dockerfile: df, 'big.bin': big, 'b.txt': 'new content\n' }, { tags: ['held:1'] });
    expect(hits(second.events)).toEqual([true, true, false]);
    const { readFile } = await import('node:fs/promises');
    const [bigLayer, bLayer] = (await h.store.imageLayers(second.result.image)).slice(-2);
    expect(bigLayer).toEqual((await h.store.imageLayers(first.result.image)).at(-2));
    expect(await readFile(`${await h.store.layers.diffDir(bLayer!.chainId)}/b.txt`, 'utf8')).toBe('new content\n');
    expect((await readFile(`${await h.store.layers.diffDir(bigLayer!.chainId)}/big.bin`, 'utf8')).length).toBe(big.length);
  });

  it('cache: a changed build arg misses the steps that use it and names the argument', async () => {
    const files = { Dockerfile: 'FROM base\nARG A=1\nENV E=$A\nLABEL l=1\n' };
    await h.build(files, { tags: ['args:1'] });
    const changed = await h.build(files, { tags: ['args:1'], buildArgs: { A: '2' } });
    expect(hits(changed.events)).toEqual([true, false, false]);
    expect(decisions(changed.events)[1]!.reason).toEqual({ kind: 'build-arg-changed', args: [{ name: 'A', old: '1', new: '2' }] });
    expect(decisions(changed.events)[1]!.probe).toBe('/bin/sh -c #(nop)  ENV E=2');
    const unused = await h.build(files, { tags: ['args:2'], buildArgs: { NOPE: 'x', HTTP_PROXY: 'http://proxy' } });
    expect(unused.output).toContain('[Warning] One or more build-args [NOPE] were not consumed\nSuccessfully built');
  });

  it('cache: reordered lines are explained as instruction changes; --no-cache misses everything', async () => {
    await h.build({ Dockerfile: 'FROM base\nENV A=1\nENV B=2\n' }, { tags: ['order:1'] });
    const reordered = await h.build({ Dockerfile: 'FROM base\nENV B=2\nENV A=1\n' }, { tags: ['order:1'] });
    expect(decisions(reordered.events)[0]!.reason).toEqual({ kind: 'instruction-changed', old: 'ENV A=1', new: 'ENV B=2' });
    const noCache = await h.build({ Dockerfile: 'FROM base\nENV B=2\nENV A=1\n' }, { tags: ['order:1'], noCache: true });
    expect(decisions(noCache.events).map((d) => d.reason?.kind)).toEqual(['no-cache', 'no-cache']);
  });

  it('COPY --from a stage keeps ownership and mode; --chown resolves names in the image', async () => {
    const dockerfile = 'FROM base AS builder\nCOPY --chown=nobody:nogroup a.sh /out/a.sh\nFROM base\nCOPY --from=builder /out/a.sh /a.sh\nCOPY --from=0 /out /out2\n';
    const { result, output } = await h.build({ Dockerfile: dockerfile, 'a.sh': { content: 'echo\n', mode: 0o751 } });
    const config = await h.store.imageConfig(result.image);
    expect(config.history!.at(-2)!.created_by).toMatch(/^\/bin\/sh -c #\(nop\) COPY file:[a-f0-9]{64} in \/a\.sh $/);
    expect(output.match(/\[aux /g)).toHaveLength(2);
    const layers = await h.store.imageLayers(result.image);
    const view = await import('node:fs').then((fs) => fs.promises);
    const dir = await h.store.layers.diffDir(layers[layers.length - 2]!.chainId);
    const st = await view.lstat(`${dir}/a.sh`);
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([65534, 65534, 0o751]);
  });

  it('.dockerignore: ignored files and the Dockerfile itself are not seen by COPY . ', async () => {
    const { result } = await h.build({ Dockerfile: 'FROM base\nCOPY . /ctx/\n', '.dockerignore': '*.md\n!README.md\nDockerfile\n.dockerignore\nsecret/\n', 'README.md': 'r', 'NOTES.md': 'n', 'keep.txt': 'k', 'secret/key': 'k' });
    const layers = await h.store.imageLayers(result.image);
    const dir = await h.store.layers.diffDir(layers.at(-1)!.chainId);
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(`${dir}/ctx`)).sort()).toEqual(['README.md', 'keep.txt']);
  });

  it('hostile contexts: ../ paths are forbidden and symlinks never lead out of the context', async () => {
    const escape = await h.fail({ Dockerfile: 'FROM base\nCOPY ../etc/passwd /x\n' });
    expect(escape.error.message).toBe('COPY failed: forbidden path outside the build context: ../etc/passwd ()');
    expect(escape.output).toContain('[error -: COPY failed: forbidden path outside the build context');
    expect(escape.events.at(-1)).toMatchObject({ type: 'build-error', range: { start: 2, end: 2 } });
    const link = await h.fail({ Dockerfile: 'FROM base\nCOPY link /x\n', link: { symlink: '/etc/hostname' } });
    expect(link.error.message).toBe('COPY failed: file not found in build context or excluded by .dockerignore: stat link: file does not exist');
    const dirLink = await h.build({ Dockerfile: 'FROM base\nCOPY up/passwd /p\n', up: { symlink: '../../../../etc' }, etc: { dir: true }, 'etc/passwd': 'context copy\n' });
    const layers = await h.store.imageLayers(dirLink.result.image);
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(`${await h.store.layers.diffDir(layers.at(-1)!.chainId)}/p`, 'utf8')).toBe('context copy\n');
  });

  it('BuildKit-only options fail when their step is dispatched, with the classic builder text', async () => {
    const chmod = await h.fail({ Dockerfile: 'FROM base\nENV A=1\nCOPY --chmod=755 a /a\n', a: 'a' });
    expect(chmod.error.message).toBe('the --chmod option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled');
    expect(chmod.output).toContain('Step 3/3 : COPY --chmod=755 a /a\n[error');
    const mount = await h.fail({ Dockerfile: 'FROM base\nRUN --mount=type=cache,target=/x echo\n' });
    expect(mount.error.message).toMatch(/^the --mount option requires BuildKit/);
  });

  it('multi-stage with --target, FROM scratch and global ARG in FROM', async () => {
    const dockerfile = 'ARG BASE=base\nFROM $BASE AS one\nENV ONE=1\nFROM scratch AS two\nCOPY a /a\nFROM one\nENV THREE=3\n';
    const { result, output } = await h.build({ Dockerfile: dockerfile, a: 'a' }, { target: 'two' });
    expect(output.startsWith('Step 1/5 : ARG BASE=base\nStep 2/5 : FROM $BASE AS one\n')).toBe(true);
    expect(output).toContain('Step 4/5 : FROM scratch AS two\n ---> \n');
    const config = await h.store.imageConfig(result.image);
    expect(config.rootfs.diff_ids).toHaveLength(1);
    const missing = await h.fail({ Dockerfile: dockerfile, a: 'a' }, { target: 'nope' });
    expect(missing.error.message).toBe('failed to reach build target nope in Dockerfile');
  });

  it('intermediate images keep parent links; the build log answers with the last build of a tag', async () => {
    const { result } = await h.build({ Dockerfile: 'FROM base\nENV P=1\nENV Q=2\n' }, { tags: ['parents:1'] });
    const parent = h.ns.image(result.image)?.parent;
    expect(parent).toBeDefined();
    expect(h.ns.image(parent!)?.parent).toBe(h.base);
    expect(h.ns.lookupTag('docker.io/library/parents:1')).toBe(result.image);
  });
});
