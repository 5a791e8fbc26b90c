import type { Script } from '../script.ts';

/** Seed lessons 000–004: listing, tagging, inspecting, history and removal of images. */
export const images: Script = {
  name: 'images',
  covers: 'docker images [-q] [--no-trunc] [--format], image inspect --format, image history, tag, image tag, rmi, image rm, image prune [-a]',
  steps: [
    { args: ['images'], unordered: true },
    { args: ['images', '-q'], unordered: true },
    { args: ['images', '-q', '--no-trunc'], unordered: true },
    { args: ['images', '--format', '{{.ID}}: {{.Repository}}'], unordered: true },
    { args: ['images', 'busybox'] },
    { args: ['images', '--filter', 'dangling=true'] },
    { args: ['image', 'inspect', 'busybox', '--format', '{{json .Config.Cmd}}'] },
    { args: ['image', 'inspect', 'busybox', '--format', '{{.Id}} {{.Architecture}} {{.Os}} {{len .RootFS.Layers}}'] },
    { args: ['inspect', '--format', '{{.RepoTags}}', 'hello-world'] },
    { args: ['image', 'history', 'busybox'] },
    { args: ['image', 'history', '--no-trunc', '-q', 'busybox'] },
    { args: ['tag', 'busybox', 'learner/box:v1'] },
    { args: ['image', 'tag', 'busybox', 'learner/box:v2'] },
    { args: ['images', 'learner/box'] },
    { args: ['images', 'learner/*'], unordered: true },
    { args: ['rmi', 'learner/box:v1'] },
    { args: ['image', 'rm', 'learner/box:v2'] },
    { args: ['rmi', 'nosuch:1'] },
    { args: ['image', 'inspect', 'nosuch'] },
    { args: ['inspect', 'nosuch'] },
    { args: ['tag', 'nosuch', 'x'] },
    { args: ['tag', 'busybox', 'UPPER/case'] },
    { args: ['image', 'prune', '-f'] },
    { args: ['images', '--digests', 'hello-world'] },
  ],
};
