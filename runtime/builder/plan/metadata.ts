import type { ContainerConfig } from '../../image/config.ts';
import { goList, goQuoteHealth, goQuoteList } from '../cache/go-format.ts';
import { shellOf } from '../cache/run-config.ts';
import type { Instruction } from '../parse/instructions.ts';
import { expandWord, expansionEnv, type StageState } from './state.ts';
import { parseSignal } from './signals.ts';

export type MetadataInstruction = Extract<Instruction, { kind: 'ENV' | 'LABEL' | 'MAINTAINER' | 'ONBUILD' | 'CMD' | 'HEALTHCHECK' | 'ENTRYPOINT' | 'EXPOSE' | 'USER' | 'VOLUME' | 'STOPSIGNAL' | 'ARG' | 'SHELL' }>;

export function isMetadata(i: Instruction): i is MetadataInstruction {
  return !['RUN', 'COPY', 'ADD', 'WORKDIR'].includes(i.kind);
}

/**
 * Apply a metadata instruction to the stage's run config, with the classic builder's expansion rules, and
 * return the text of its `#(nop)` history comment (moby 20.10 dispatchers.go).
 */
export function applyMetadata(i: MetadataInstruction, state: StageState): string {
  const rc = state.runConfig;
  const x = (w: string) => expandWord(state, w);
  switch (i.kind) {
    case 'ENV': {
      const pairs = i.pairs.map((p) => ({ key: x(p.key), value: x(p.value) }));
      for (const { key, value } of pairs) setEnv(rc, key, value);
      return `ENV${pairs.map((p) => ` ${p.key}=${p.value}`).join('')}`;
    }
    case 'LABEL': {
      const pairs = i.noExpand ? i.pairs : i.pairs.map((p) => ({ key: x(p.key), value: x(p.value) }));
      rc.Labels = { ...(rc.Labels ?? {}) };
      for (const { key, value } of pairs) rc.Labels[key] = value;
      return `LABEL${pairs.map((p) => ` ${p.key}=${p.value}`).join('')}`;
    }
    case 'MAINTAINER':
      state.maintainer = i.maintainer;
      return `MAINTAINER ${i.maintainer}`;
    case 'ONBUILD':
      rc.OnBuild = [...(rc.OnBuild ?? []), i.expression];
      return `ONBUILD ${i.expression}`;
    case 'CMD': {
      rc.Cmd = resolveCmdLine(i.command.args, i.command.prependShell, rc);
      if (i.command.args.length > 0) state.cmdSet = true;
      return `CMD ${goQuoteList(rc.Cmd)}`;
    }
    case 'ENTRYPOINT': {
      rc.Entrypoint = i.command ? resolveCmdLine(i.command.args, i.command.prependShell, rc) : null;
      if (!state.cmdSet) rc.Cmd = null;
      return `ENTRYPOINT ${goQuoteList(rc.Entrypoint)}`;
    }
    case 'HEALTHCHECK':
      rc.Healthcheck = i.health;
      return `HEALTHCHECK ${goQuoteHealth(i.health)}`;
    case 'EXPOSE':
      return applyExpose(i.ports, state);
    case 'USER':
      rc.User = x(i.user);
      return `USER ${rc.User}`;
    case 'VOLUME': {
      const volumes = i.volumes.map(x);
      rc.Volumes = { ...(rc.Volumes ?? {}) };
      for (const v of volumes) {
        if (v === '') throw new Error('VOLUME specified can not be an empty string');
        rc.Volumes[v] = {};
      }
      return `VOLUME ${goList(volumes)}`;
    }
    case 'STOPSIGNAL': {
      const signal = x(i.signal);
      parseSignal(signal);
      rc.StopSignal = signal;
      return `STOPSIGNAL ${signal}`;
    }
    case 'ARG': {
      // All words are expanded first, so `ARG A=1 B=$A` does not see this line's A (as in Docker).
      const args = i.args.map((a) => ({ key: x(a.key), value: a.value === undefined ? undefined : x(a.value) }));
      for (const { key, value } of args) state.buildArgs.addArg(key, value);
      return `ARG ${args.map((a) => (a.value === undefined ? a.key : `${a.key}=${a.value}`)).join(' ')}`;
    }
    case 'SHELL':
      rc.Shell = [...i.shell];
      return `SHELL ${goList(rc.Shell)}`;
  }
}

/** Shell form gets the current SHELL in front; exec form is used as written. */
export function resolveCmdLine(args: string[], prependShell: boolean, rc: ContainerConfig): string[] {
  return prependShell ? [...shellOf(rc), ...args] : [...args];
}

function setEnv(rc: ContainerConfig, key: string, value: string): void {
  const env = [...(rc.Env ?? [])];
  const at = env.findIndex((e) => e.split('=', 1)[0] === key);
  if (at >= 0) env[at] = `${key}=${value}`;
  else env.push(`${key}=${value}`);
  rc.Env = env;
}

function applyExpose(raw: string[], state: StageState): string {
  const env = expansionEnv(state);
  const ports = raw.flatMap((p) => state.lexer.processWords(p, env));
  const rc = state.runConfig;
  rc.ExposedPorts = { ...(rc.ExposedPorts ?? {}) };
  for (const spec of ports) for (const key of parsePortSpec(spec)) rc.ExposedPorts[key] = {};
  return `EXPOSE ${ports.join(' ')}`;
}

/** go-connections nat.ParsePortSpec for what EXPOSE accepts: `80`, `80/udp`, `8000-8002/tcp`. */
function parsePortSpec(spec: string): string[] {
  const [portPart, proto = 'tcp'] = spec.split('/') as [string, string?];
  const port = portPart.includes(':') ? portPart.slice(portPart.lastIndexOf(':') + 1) : portPart;
  const m = /^(\d+)(?:-(\d+))?$/.exec(port);
  if (!m || Number(m[1]) > 65535 || (m[2] !== undefined && (Number(m[2]) > 65535 || Number(m[2]) < Number(m[1])))) throw new Error(`invalid containerPort: ${port}`);
  if (!['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) throw new Error(`invalid proto: ${proto}`);
  const out: string[] = [];
  for (let p = Number(m[1]); p <= Number(m[2] ?? m[1]); p++) out.push(`${p}/${proto.toLowerCase()}`);
  return out;
}
