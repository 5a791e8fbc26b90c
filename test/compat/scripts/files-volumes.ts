import type { Script } from '../script.ts';

/** Seed lessons: docker cp both ways, diff, commit, export/import, named volumes and networks. */
export const filesAndVolumes: Script = {
  name: 'files-volumes',
  covers: 'docker cp, diff, commit -m, container export, image import, volume create/ls/inspect/rm, network create/ls/rm, run -v',
  files: { 'note.txt': 'hello from the host\n' },
  steps: [
    { args: ['run', '--name', 'f1', 'busybox', 'sh', '-c', 'mkdir -p /data && echo inside > /data/made.txt && rm /bin/ls'] },
    { args: ['diff', 'f1'], unordered: true },
    { args: ['cp', 'f1:/data/made.txt', 'made.txt'] },
    { args: ['cp', 'note.txt', 'f1:/data/note.txt'] },
    { args: ['cp', 'f1:/nonexist', 'x'] },
    { args: ['commit', '-m', 'made a file', 'f1', 'learner/made:1'] , exitCodeOnly: true },
    { args: ['run', '--rm', 'learner/made:1', 'cat', '/data/made.txt', '/data/note.txt'] },
    { args: ['image', 'history', '--format', '{{.CreatedBy}} {{.Comment}}', 'learner/made:1'] },
    { args: ['container', 'export', '-o', 'f1.tar', 'f1'] },
    { args: ['image', 'import', 'f1.tar', 'learner/imported:1'], exitCodeOnly: true },
    { args: ['run', '--rm', 'learner/imported:1', 'cat', '/data/made.txt'] },
    { args: ['rm', 'f1'] },
    { args: ['volume', 'create', 'appdata'] },
    { args: ['volume', 'ls'] },
    { args: ['volume', 'inspect', '-f', '{{.Name}} {{.Driver}} {{.Scope}}', 'appdata'] },
    { args: ['run', '--rm', '-v', 'appdata:/data', 'busybox', 'sh', '-c', 'echo kept > /data/k.txt'] },
    { args: ['run', '--rm', '-v', 'appdata:/data', 'busybox', 'cat', '/data/k.txt'] },
    { args: ['volume', 'rm', 'appdata'] },
    { args: ['volume', 'rm', 'nosuchvol'] },
    { args: ['network', 'create', 'appnet'], exitCodeOnly: true },
    { args: ['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}', '--filter', 'name=appnet'] },
    { args: ['network', 'rm', 'appnet'] },
    { args: ['network', 'rm', 'nosuchnet'] },
  ],
};
