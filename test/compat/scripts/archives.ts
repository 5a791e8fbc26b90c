import type { Script } from '../script.ts';

/** Seed lessons: moving images as files (docker save / load), and what goes wrong with bad input. */
export const archives: Script = {
  name: 'archives',
  covers: 'docker save -o, docker load -i, rmi then load round trip, save of a missing image, load of a non-archive',
  files: { 'garbage.tar': 'this is not a tar archive\n'.repeat(40) },
  steps: [
    { args: ['save', '-o', 'busybox.tar', 'busybox'] },
    { args: ['rmi', 'busybox'] },
    { args: ['images', 'busybox'] },
    { args: ['load', '-i', 'busybox.tar'] },
    { args: ['images', 'busybox'] },
    { args: ['image', 'save', 'hello-world', '-o', 'hello.tar'] },
    { args: ['image', 'load', '--input', 'hello.tar'] },
    { args: ['save', '-o', 'missing.tar', 'nosuch:1'] },
    { args: ['load', '-i', 'garbage.tar'], differs: 'dockerd: "Error processing tar file(exit status 1): archive/tar: invalid tar header"; layerlab: "image archive is not a valid tar archive: Invalid tar header…", which names what was wrong' },
    { args: ['load', '-i', 'nosuchfile.tar'] },
  ],
};
