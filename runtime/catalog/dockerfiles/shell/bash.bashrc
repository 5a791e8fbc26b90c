# /etc/bash.bashrc of the layerlab sandbox terminal (from layerlab's catalog: runtime/catalog/dockerfiles/shell).
[ -z "${PS1-}" ] && return

shopt -s checkwinsize histappend
HISTCONTROL=ignoreboth

if ! shopt -oq posix && [ -f /usr/share/bash-completion/bash_completion ]; then
  . /usr/share/bash-completion/bash_completion
  if [ -r /usr/share/bash-completion/completions/docker ]; then
    . /usr/share/bash-completion/completions/docker
  fi
fi

PS1='\[\e[1;32m\]\u@layerlab\[\e[0m\]:\[\e[1;34m\]\w\[\e[0m\]\$ '

alias ls='ls --color=auto'
alias ll='ls -alF'
alias la='ls -A'
alias grep='grep --color=auto'

if [ -z "${LAYERLAB_WELCOMED-}" ] && [ -r /etc/motd ]; then
  export LAYERLAB_WELCOMED=1
  cat /etc/motd
fi
