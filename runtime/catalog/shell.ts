import { promises as fs } from 'node:fs';
import path from 'node:path';
import { buildDebianLayer, replaceFile } from './debian-layer.ts';
import { debianSlimRecipe } from './debian.ts';
import type { ImageRecipe, ImageSpec } from './recipe.ts';

/** The sandbox terminal's image: a system image, imported by the server and hidden from learners. */
export const SHELL_IMAGE = 'layerlab/shell:latest';

/** Tools a learner's terminal needs besides bash and coreutils. git (45 MB with perl) is left out. */
const PACKAGES = ['bash-completion', 'ca-certificates', 'curl', 'iproute2', 'iputils-ping', 'jq', 'less', 'nano', 'procps', 'tree', 'vim-tiny'];

/** Printed when an interactive shell starts (once: nested shells inherit LAYERLAB_WELCOMED). */
export const SHELL_WELCOME = `This is your layerlab sandbox. \`docker\` talks to your own engine.
Files in /workspace show up in the editor.
`;

/**
 * Read by every interactive bash (and by login shells through /etc/profile): prompt, completion, aliases and
 * the welcome text. Docker's completion file is mounted by the server, so it is loaded only when present.
 */
const BASHRC = `# /etc/bash.bashrc of the layerlab sandbox terminal (written by layerlab's catalog recipe).
[ -z "\${PS1-}" ] && return

shopt -s checkwinsize histappend
HISTCONTROL=ignoreboth

if ! shopt -oq posix && [ -f /usr/share/bash-completion/bash_completion ]; then
  . /usr/share/bash-completion/bash_completion
  if [ -r /usr/share/bash-completion/completions/docker ]; then
    . /usr/share/bash-completion/completions/docker
  fi
fi

PS1='\\[\\e[1;32m\\]\\u@layerlab\\[\\e[0m\\]:\\[\\e[1;34m\\]\\w\\[\\e[0m\\]\\$ '

alias ls='ls --color=auto'
alias ll='ls -alF'
alias la='ls -A'
alias grep='grep --color=auto'

if [ -z "\${LAYERLAB_WELCOMED-}" ] && [ -r /etc/motd ]; then
  export LAYERLAB_WELCOMED=1
  cat /etc/motd
fi
`;

/**
 * layerlab/shell:latest: the learner's terminal container. debian:bookworm-slim plus everyday tools, a
 * colored prompt, bash completion (docker's included when mounted), and /workspace as the working directory.
 */
export const shellRecipe: ImageRecipe = {
  refs: [SHELL_IMAGE],
  description: 'The layerlab sandbox terminal: bash with completion, curl, jq, tree, nano, vim-tiny, ping, ip on debian:bookworm-slim',
  version: 'shell/1',
  base: debianSlimRecipe,
  system: true,
  async build(work, log, base): Promise<ImageSpec> {
    const made = await buildDebianLayer(work, log, base, { packages: PACKAGES, customize: setUpShell });
    return { ...made, cmd: ['bash', '-l'], env: ['TERM=xterm-256color'], workingDir: '/workspace' };
  },
};

async function setUpShell(rootfs: string): Promise<string> {
  await replaceFile(rootfs, 'etc/bash.bashrc', BASHRC);
  await replaceFile(rootfs, 'etc/motd', SHELL_WELCOME);
  await fs.mkdir(path.join(rootfs, 'workspace'));
  await fs.chmod(path.join(rootfs, 'workspace'), 0o755);
  return '/etc/bash.bashrc (prompt, completion, aliases, welcome) and /etc/motd written, /workspace made';
}
