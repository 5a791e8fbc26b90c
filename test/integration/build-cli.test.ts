import { existsSync, mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountsUnder } from '../../runtime/container/mountinfo.ts';
import { DOCKER_20, DOCKER_28, startEngine, type TestEngine } from '../helpers/engine.ts';
import { containersOnDisk, runningIn, writeContext } from './build-helpers.ts';

// stdout and stderr are two pipes: the pause keeps their order in the output deterministic.
const DOCKERFILE = `FROM busybox
ENV GREETING=hello
WORKDIR /app
COPY a.txt ./
RUN cat a.txt > b.txt && echo out && sleep 0.2 && echo err >&2
CMD ["cat", "/app/b.txt"]
`;

/** The daemon's part of the output with IDs replaced (engine-api-facts §7.15, builder-facts §2.6). */
const EXPECTED = `Step 1/6 : FROM busybox
 ---> <id>
Step 2/6 : ENV GREETING=hello
 ---> Running in <id>
Removing intermediate container <id>
 ---> <id>
Step 3/6 : WORKDIR /app
 ---> Running in <id>
Removing intermediate container <id>
 ---> <id>
Step 4/6 : COPY a.txt ./
 ---> <id>
Step 5/6 : RUN cat a.txt > b.txt && echo out && sleep 0.2 && echo err >&2
 ---> Running in <id>
out
\u001b[91merr
\u001b[0mRemoving intermediate container <id>
 ---> <id>
Step 6/6 : CMD ["cat", "/app/b.txt"]
 ---> Running in <id>
Removing intermediate container <id>
 ---> <id>
Successfully built <id>
Successfully tagged demo:<tag>
`;

function daemonPart(stdout: string): string {
  expect(stdout).toMatch(/^Sending build context to Docker daemon {2}\d+(\.\d+)?[kM]?B\r\r\n/);
  return stdout.replace(/^Sending build context[^\n]*\n/, '').replace(/\b[0-9a-f]{12}\b/g, '<id>');
}

describe('docker build through the real CLI', () => {
  let engine: TestEngine;
  let work: string;
  const ctx = () => path.join(work, 'ctx');

  beforeAll(async () => {
    engine = await startEngine('build-cli');
    work = mkdtempSync(path.join(os.tmpdir(), 'layerlab-build-cli-'));
    await writeContext(ctx(), { Dockerfile: DOCKERFILE, 'a.txt': 'from the context\n' });
  }, 90_000);

  afterAll(async () => {
    await engine?.stop();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it.each([
    ['20.10', DOCKER_20, 'v20'],
    ['28', DOCKER_28, 'v28'],
  ])('builds RUN/COPY/ENV/WORKDIR/CMD with the classic output lines (client %s)', (_name, cli, tag) => {
    if (!cli) throw new Error('the docker 28 client is missing (expected at /usr/local/bin/docker)');
    const r = engine.docker(['build', '--no-cache', '-t', `demo:${tag}`, ctx()], { cli });
    expect(r.code, r.stderr).toBe(0);
    expect(daemonPart(r.stdout)).toBe(EXPECTED.replace('<tag>', tag));
    if (tag === 'v28') expect(r.stderr).toMatch(/^DEPRECATED: The legacy builder is deprecated/);
    else expect(r.stderr).toBe('');
    // Every RUN/metadata container was removed (--rm is the default).
    expect(runningIn(r.stdout)).toHaveLength(4);
  });

  it('the image has Docker history shapes, its config, and runs', async () => {
    const history = engine.docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Size}}', 'demo:v20']);
    expect(history.code, history.stderr).toBe(0);
    const rows = history.stdout.trim().split('\n');
    expect(rows.slice(0, 5)).toEqual([
      '/bin/sh -c #(nop)  CMD ["cat" "/app/b.txt"]|0B',
      '/bin/sh -c cat a.txt > b.txt && echo out && sleep 0.2 && echo err >&2|17B',
      expect.stringMatching(/^\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in \.\/ \|17B$/),
      '/bin/sh -c #(nop) WORKDIR /app|0B',
      '/bin/sh -c #(nop)  ENV GREETING=hello|0B',
    ]);
    const cmd = engine.docker(['inspect', '--format', '{{json .Config.Cmd}} {{.Config.WorkingDir}}', 'demo:v20']);
    expect(cmd.stdout.trim()).toBe('["cat","/app/b.txt"] /app');
    const run = engine.docker(['run', '--rm', 'demo:v20']);
    expect(run, run.stderr).toMatchObject({ code: 0, stdout: 'from the context\n' });
    const env = engine.docker(['run', '--rm', 'demo:v20', 'sh', '-c', 'echo "$GREETING from $(pwd)"']);
    expect(env.stdout).toBe('hello from /app\n');
    const all = engine.docker(['images', '-a', '--format', '{{.Repository}}']);
    expect(all.stdout.split('\n').filter((l) => l === '<none>').length).toBeGreaterThanOrEqual(8);
  });

  it('a failing RUN shows its stderr, exits with its code and leaves its container', async () => {
    await writeContext(path.join(work, 'fail'), { Dockerfile: 'FROM busybox\nRUN echo about to fail >&2 && exit 3\nRUN echo never\n' });
    const before = await containersOnDisk(engine.stateDir);
    const r = engine.docker(['build', path.join(work, 'fail')]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('\u001b[91mabout to fail\n\u001b[0m');
    expect(r.stdout).not.toContain('Removing intermediate container');
    expect(r.stderr).toBe("The command '/bin/sh -c echo about to fail >&2 && exit 3' returned a non-zero code: 3\n");
    const [id] = runningIn(r.stdout);
    const after = (await containersOnDisk(engine.stateDir)).filter((c) => !before.includes(c));
    expect(after).toHaveLength(1);
    expect(after[0]!.startsWith(id!)).toBe(true);
    const ps = engine.docker(['ps', '-a', '--format', '{{.ID}} {{.Status}} {{.Command}}']);
    expect(ps.stdout).toMatch(new RegExp(`^${id} Exited \\(3\\) .* "/bin/sh -c 'echo a`, 'm'));
    const forced = engine.docker(['build', '--force-rm', path.join(work, 'fail')]);
    expect(forced.code).toBe(3);
    expect((await containersOnDisk(engine.stateDir)).filter((c) => !before.includes(c))).toHaveLength(1);
  });

  it('RUN has no network unless the build asks for one, and runs within the requested memory limit', async () => {
    await writeContext(path.join(work, 'net'), { Dockerfile: 'FROM busybox\nRUN cat /proc/net/dev | cut -d: -f1 | tail -n +3 | sort | tr -d " " | tr "\\n" " "; cat /sys/fs/cgroup/memory/memory.limit_in_bytes\n' });
    const none = engine.docker(['build', '--label', 'lesson=net', path.join(work, 'net')]);
    expect(none.code, none.stderr).toBe(0);
    // The engine's default memory limit applies to build containers as to any other (cgroup v1 here).
    expect(none.stdout).toContain('\nlo 536870912\n');
    const bridge = engine.docker(['build', '--no-cache', '--network', 'bridge', '--memory', '64m', path.join(work, 'net')]);
    expect(bridge.code, bridge.stderr).toBe(0);
    expect(bridge.stdout).toContain('\nlo eth0 67108864\n');
    expect(none.stdout).toContain('Step 2/3 : RUN ');
    expect(none.stdout).toContain('Step 3/3 : LABEL lesson=net\n');
  });

  it('-q prints only the image ID; a quiet failure still shows the output and the error', async () => {
    const q = engine.docker(['build', '-q', ctx()]);
    expect(q.code, q.stderr).toBe(0);
    expect(q.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    const qf = engine.docker(['build', '-q', '--force-rm', path.join(work, 'fail')]);
    expect(qf.code).toBe(3);
    // The daemon sends the held-back output before the error; the quiet CLI prints it to stderr.
    expect(qf.stdout).toBe('');
    expect(qf.stderr).toContain('Step 2/3 : RUN echo about to fail >&2 && exit 3\n ---> Running in ');
    expect(qf.stderr).toContain("The command '/bin/sh -c echo about to fail >&2 && exit 3' returned a non-zero code: 3");
  });

  it('-f outside the context (.dockerfile.<hex>) and a Dockerfile from stdin', async () => {
    await writeContext(path.join(work, 'outside'), { 'build.Dockerfile': 'FROM busybox\nCOPY . /ctx/\nRUN ls -A /ctx\n' });
    const f = engine.docker(['build', '-f', path.join(work, 'outside', 'build.Dockerfile'), ctx()]);
    expect(f.code, f.stderr).toBe(0);
    // The CLI's random Dockerfile name and its .dockerignore edit are not part of what COPY sees.
    expect(f.stdout).toContain(' ---> Running in ');
    expect(f.stdout).toMatch(/\nDockerfile\na\.txt\nRemoving intermediate container/);
    const compressed = engine.docker(['build', '--compress', '--no-cache', '-f', path.join(work, 'outside', 'build.Dockerfile'), ctx()]);
    expect(compressed.code, compressed.stderr).toBe(0);
    expect(compressed.stdout).toMatch(/\nDockerfile\na\.txt\n/);
    const stdin = engine.docker(['build', '-t', 'fromstdin', '-'], { input: 'FROM busybox\nRUN echo piped\nLABEL via=stdin\n' });
    expect(stdin.code, stdin.stderr).toBe(0);
    expect(stdin.stdout).toContain('\npiped\n');
    expect(engine.docker(['inspect', '--format', '{{.Config.Labels.via}}', 'fromstdin']).stdout).toBe('stdin\n');
  });

  it('errors before any step are plain daemon errors; a missing FROM image is pulled from the catalog', async () => {
    await writeContext(path.join(work, 'bad'), { Dockerfile: 'FROM busybox\nFOO bar\n' });
    const bad = engine.docker(['build', path.join(work, 'bad')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^Error response from daemon: dockerfile parse error line 2: unknown instruction: FOO/);
    const none = engine.docker(['build', '-f', 'nope', ctx()]);
    expect(none.stderr).toMatch(/Cannot locate specified Dockerfile: nope|unable to prepare context/);
    expect(engine.docker(['rmi', 'hello-world']).code).toBe(0);
    await writeContext(path.join(work, 'pull'), { Dockerfile: 'FROM hello-world\nLABEL pulled=yes\n' });
    const pulled = engine.docker(['build', path.join(work, 'pull')]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toMatch(/Step 1\/2 : FROM hello-world\nlatest: Pulling from library\/hello-world\n[0-9a-f]{12}: Pull complete\nDigest: sha256:[0-9a-f]{64}\nStatus: Downloaded newer image for hello-world:latest\n ---> [0-9a-f]{12}\n/);
    const again = engine.docker(['build', '--pull', path.join(work, 'pull')]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/FROM hello-world\nlatest: Pulling from library\/hello-world\n(?:[0-9a-f]{12}: Already exists\n)+Digest: sha256:[0-9a-f]{64}\nStatus: Image is up to date for hello-world:latest\n/);
    await writeContext(path.join(work, 'nx'), { Dockerfile: 'FROM nosuchimage:1\n' });
    const nx = engine.docker(['build', path.join(work, 'nx')]);
    expect(nx.code).toBe(1);
    expect(nx.stdout + nx.stderr).toContain('pull access denied for nosuchimage:1');
  });

  it('every read-only image view a COPY/WORKDIR step mounted was released', async () => {
    expect(existsSync(path.join(engine.stateDir, 'builder-views'))).toBe(true);
    expect(await mountsUnder(path.join(engine.stateDir, 'builder-views'))).toEqual([]);
  });
});
