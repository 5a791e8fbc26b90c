import type { Script } from '../script.ts';

const OFFLINE =
  'the comparison dockerd has no Docker Hub to talk to (no internet); layerlab answers from its embedded hub. ' +
  'Covered against real peers instead: test/integration/registry-cli.test.ts (distribution 2.8.2) and registry-interop.test.ts (dockerd, skopeo)';

/** Seed lessons' registry commands. Run on both targets and reported; Docker Hub itself is not reachable here. */
export const registry: Script = {
  name: 'registry',
  covers: 'docker search, pull, login, tag user/repo, push, logout',
  steps: [
    { args: ['search', 'busybox'], differs: OFFLINE },
    { args: ['pull', 'hello-world'], differs: OFFLINE },
    { args: ['login', '-u', 'learner', '-p', 'secret-pass'], differs: OFFLINE },
    { args: ['tag', 'busybox', 'learner/box:v1'] },
    { args: ['push', 'learner/box:v1'], differs: OFFLINE },
    { args: ['logout'], differs: OFFLINE },
    { args: ['rmi', 'learner/box:v1'], differs: 'after a successful push the image also has a digest reference, so layerlab untags both (as dockerd does after a push that succeeds; the comparison push failed)' },
  ],
};
