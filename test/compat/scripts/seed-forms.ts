import type { Script } from '../script.ts';

/** The remaining command forms that appear in the seed lessons, as learners type them. */
export const seedForms: Script = {
  name: 'seed-forms',
  covers: 'version, info, container ls/run/stop/restart/prune, logs --since, image inspect --format (incl. a bad field), build --squash, images --format',
  files: { Dockerfile: 'FROM busybox\nCMD ["echo", "squashed?"]\n' },
  steps: [
    { args: ['version'], exitCodeOnly: true },
    { args: ['info'], exitCodeOnly: true },
    { args: ['container', 'run', '-d', '--name=test', 'busybox', 'sleep', '60'], exitCodeOnly: true },
    { args: ['container', 'ls', '--format', '{{.Names}} {{.Image}} {{.Status}}'] },
    { args: ['restart', '-t', '1', 'test'] },
    { args: ['logs', '--since', '1h', 'test'] },
    { args: ['container', 'stop', '-t', '1', 'test'] },
    { args: ['container', 'prune', '-f'], exitCodeOnly: true },
    { args: ['container', 'ls', '-a', '-q'] },
    { args: ['image', 'inspect', 'busybox', "--format='{{ .id }}'"] },
    { args: ['image', 'inspect', 'busybox', '--format={{json .Id }}'] },
    { args: ['build', '--squash', '-t', 'sq', '.'] },
    { args: ['images', '--format', '{{.ID}}: {{.Repository}}', 'busybox'] },
  ],
};
