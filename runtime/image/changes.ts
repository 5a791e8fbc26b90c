import path from 'node:path';
import { invalid } from '../errors.ts';
import type { ContainerConfig } from './config.ts';

/** Instructions `docker import --change` / `docker commit --change` may use. */
const APPLIERS: Record<string, (state: State, rest: string) => void> = {
  cmd: (s, rest) => {
    s.config.Cmd = commandLine(rest, 'CMD');
    s.cmdSet = true;
  },
  entrypoint: (s, rest) => {
    s.config.Entrypoint = commandLine(rest, 'ENTRYPOINT');
    // As in a Dockerfile: ENTRYPOINT resets an inherited CMD unless a CMD was given in these same changes.
    if (!s.cmdSet) s.config.Cmd = null;
  },
  env: (s, rest) => {
    for (const [k, v] of pairs(rest, 'ENV', s)) s.config.Env = [...(s.config.Env ?? []).filter((e) => e.split('=')[0] !== k), `${k}=${v}`];
  },
  label: (s, rest) => {
    s.config.Labels = { ...(s.config.Labels ?? {}) };
    for (const [k, v] of pairs(rest, 'LABEL', s)) s.config.Labels[k] = v;
  },
  expose: (s, rest) => {
    const ports = words(rest, s).sort();
    if (ports.length === 0) throw invalid('EXPOSE requires at least one argument');
    s.config.ExposedPorts = { ...(s.config.ExposedPorts ?? {}) };
    for (const p of ports) for (const key of expandPort(p)) s.config.ExposedPorts[key] = {};
  },
  user: (s, rest) => {
    s.config.User = single(rest, 'USER', s);
  },
  volume: (s, rest) => {
    const list = jsonList(rest) ?? words(rest, s);
    if (list.length === 0) throw invalid('VOLUME requires at least one argument');
    s.config.Volumes = { ...(s.config.Volumes ?? {}) };
    for (const v of list) {
      if (v.trim() === '') throw invalid('VOLUME specified can not be an empty string');
      s.config.Volumes[v] = {};
    }
  },
  workdir: (s, rest) => {
    const dir = single(rest, 'WORKDIR', s);
    s.config.WorkingDir = dir.startsWith('/') ? dir : path.posix.join('/', s.config.WorkingDir ?? '', dir);
  },
  stopsignal: (s, rest) => {
    const sig = single(rest, 'STOPSIGNAL', s);
    if (!isSignal(sig)) throw invalid(`Invalid signal: ${sig}`);
    s.config.StopSignal = sig;
  },
};

interface State {
  config: ContainerConfig;
  cmdSet: boolean;
}

/**
 * Apply Dockerfile-syntax changes (`CMD ["sh"]`, `ENV A=1 B="two words"`, …) to a container config, the
 * way dockerd's BuildFromConfig does for import and commit: the changes are one Dockerfile (so a change
 * with embedded newlines is several instructions, each of which must be allowed). Returns a new config.
 */
export function applyChanges(base: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const state: State = { config: structuredClone(base), cmdSet: false };
  for (const line of logicalLines(changes.join('\n'))) {
    const m = /^(\S+)\s*(.*)$/s.exec(line)!;
    const name = m[1]!.toLowerCase();
    const apply = APPLIERS[name];
    if (!apply) throw invalid(`${name} is not a valid change command`);
    apply(state, m[2]!.trim());
  }
  return state.config;
}

/** Dockerfile lines: comments and blank lines dropped, `\` continuations joined. */
function logicalLines(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (current === '' && (line.trim() === '' || line.trimStart().startsWith('#'))) continue;
    if (/\\\s*$/.test(line)) current += line.replace(/\\\s*$/, '');
    else {
      out.push((current + line).trim());
      current = '';
    }
  }
  if (current.trim() !== '') out.push(current.trim());
  return out;
}

/** Exec form (a JSON string array) or shell form (`/bin/sh -c <rest>`). */
function commandLine(rest: string, name: string): string[] {
  const exec = jsonList(rest);
  if (exec) return exec;
  if (rest === '') throw invalid(`${name} requires at least one argument`);
  return ['/bin/sh', '-c', rest];
}

function jsonList(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(rest);
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}

/** `k=v k2="v 2"`, or the legacy `k value with spaces`. */
function pairs(rest: string, name: string, s: State): Array<[string, string]> {
  const list = words(rest, s);
  if (list.length === 0) throw invalid(`${name} requires at least one argument`);
  if (!list[0]!.includes('=')) {
    if (list.length < 2) throw invalid(`${name} must have two arguments`);
    return [[list[0]!, words(rest.slice(rest.search(/\s/)).trim(), s, false)[0] ?? '']];
  }
  return list.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw invalid(`Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

function single(rest: string, name: string, s: State): string {
  const list = words(rest, s);
  if (list.length !== 1) throw invalid(`${name} requires exactly one argument`);
  return list[0]!;
}

/**
 * Shell-like words: quotes group, `\` escapes, `$VAR` / `${VAR}` expand from the ENV set so far. With
 * `split` false the whole text is one word (whitespace kept), as for the legacy `ENV key value` form.
 */
function words(text: string, s: State, split = true): string[] {
  const env = new Map((s.config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const out: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (split && quote === undefined && /\s/.test(c)) {
      if (word !== undefined) out.push(word);
      word = undefined;
      continue;
    }
    word ??= '';
    if (c === quote) quote = undefined;
    else if (quote === undefined && (c === '"' || c === "'")) quote = c;
    else if (c === '\\' && quote !== "'" && i + 1 < text.length) word += text[++i];
    else if (c === '$' && quote !== "'") {
      const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(text.slice(i));
      if (m) {
        word += env.get(m[1] ?? m[2]!) ?? '';
        i += m[0].length - 1;
      } else word += c;
    } else word += c;
  }
  if (quote !== undefined) throw invalid(`unexpected end of statement while looking for matching ${quote}`);
  if (word !== undefined) out.push(word);
  return out;
}

/** `80` → `80/tcp`; `8000-8001/udp` → both ports; bad ports are Docker's error. */
function expandPort(spec: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  const start = Number(m?.[1]);
  const end = m?.[2] ? Number(m[2]) : start;
  if (!m || start < 1 || end > 65535 || end < start || end - start > 1000) throw invalid(`Invalid containerPort: ${spec}`);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  return Array.from({ length: end - start + 1 }, (_, k) => `${start + k}/${proto}`);
}

const SIGNALS = new Set(
  'ABRT ALRM BUS CHLD CLD CONT FPE HUP ILL INT IO IOT KILL PIPE POLL PROF PWR QUIT SEGV STKFLT STOP SYS TERM TRAP TSTP TTIN TTOU URG USR1 USR2 VTALRM WINCH XCPU XFSZ'.split(' '),
);

function isSignal(sig: string): boolean {
  if (/^\d+$/.test(sig)) return Number(sig) >= 1 && Number(sig) <= 64;
  const name = sig.toUpperCase().replace(/^SIG/, '');
  return SIGNALS.has(name) || /^RTM(IN|AX)([+-]\d+)?$/.test(name);
}
