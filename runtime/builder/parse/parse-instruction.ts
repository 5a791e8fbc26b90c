import type { HealthConfig } from '../../image/config.ts';
import { parseGoDuration } from './duration.ts';
import { flagValue, parseFlags, type FlagType } from './flags.ts';
import type { ArgDecl, CommandLine, Instruction, InstructionBase, KeyValue } from './instructions.ts';
import type { LineArgs } from './line-args.ts';

/** One logical line split into its parts (see splitCommand and lineArgs). */
export interface RawInstruction extends InstructionBase, LineArgs {
  cmd: string;
  flags: string[];
}

export interface FromLine extends InstructionBase {
  kind: 'FROM';
  base: string;
  name: string;
  platform: string;
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;
const MIN_DURATION_NS = 1e6;

/** Turn one raw line into a typed instruction, throwing Docker's message (without location) on misuse. */
export function parseInstruction(raw: RawInstruction): Instruction | FromLine {
  const base = { original: raw.original, range: raw.range };
  const flags = (defined: Record<string, FlagType> = {}) => parseFlags(raw.flags, defined);
  const { args } = raw;
  switch (raw.cmd) {
    case 'env':
    case 'label': {
      flags();
      const kind = raw.cmd === 'env' ? 'ENV' : 'LABEL';
      return { ...base, kind, pairs: keyValues(args, kind) };
    }
    case 'maintainer':
      exactlyOne(args, 'MAINTAINER');
      flags();
      return { ...base, kind: 'MAINTAINER', maintainer: args[0]! };
    case 'add':
    case 'copy': {
      const kind = raw.cmd === 'add' ? 'ADD' : 'COPY';
      if (args.length < 2) throw new Error(`${kind} requires at least two arguments, but only one was provided. Destination could not be determined`);
      const f = flags(kind === 'COPY' ? { chown: 'string', from: 'string', chmod: 'string' } : { chown: 'string', chmod: 'string' });
      return { ...base, kind, sources: args.slice(0, -1), dest: args[args.length - 1]!, chown: flagValue(f, 'chown'), chmod: flagValue(f, 'chmod'), from: flagValue(f, 'from') };
    }
    case 'from':
      return parseFrom(raw, base);
    case 'onbuild':
      return parseOnbuild(raw, base);
    case 'workdir':
      exactlyOne(args, 'WORKDIR');
      flags();
      return { ...base, kind: 'WORKDIR', path: args[0]! };
    case 'run': {
      const f = flags({ mount: 'strings' });
      return { ...base, kind: 'RUN', command: commandLine(raw), flagsUsed: f.used };
    }
    case 'cmd':
      flags();
      return { ...base, kind: 'CMD', command: commandLine(raw) };
    case 'entrypoint': {
      flags();
      const command = commandLine(raw);
      return { ...base, kind: 'ENTRYPOINT', command: command.args.length === 0 ? null : command };
    }
    case 'healthcheck':
      return { ...base, kind: 'HEALTHCHECK', health: parseHealthcheck(raw) };
    case 'expose':
      if (args.length === 0) throw atLeastOne('EXPOSE');
      flags();
      return { ...base, kind: 'EXPOSE', ports: [...args].sort() };
    case 'user':
      exactlyOne(args, 'USER');
      flags();
      return { ...base, kind: 'USER', user: args[0]! };
    case 'volume':
      return { ...base, kind: 'VOLUME', volumes: parseVolumes(raw, flags) };
    case 'stopsignal':
      exactlyOne(args, 'STOPSIGNAL');
      return { ...base, kind: 'STOPSIGNAL', signal: args[0]! };
    case 'arg':
      return { ...base, kind: 'ARG', args: parseArgs(args) };
    case 'shell': {
      flags();
      const command = commandLine(raw);
      if (command.args.length === 0) throw atLeastOne('SHELL');
      if (!raw.json) throw new Error('SHELL requires the arguments to be in JSON form');
      return { ...base, kind: 'SHELL', shell: command.args };
    }
    default:
      throw new Error(`unknown instruction: ${raw.cmd.toUpperCase()}`);
  }
}

function parseFrom(raw: RawInstruction, base: InstructionBase): FromLine {
  const { args } = raw;
  let name = '';
  if (args.length === 3 && args[1]!.toLowerCase() === 'as') {
    name = args[2]!.toLowerCase();
    if (!STAGE_NAME.test(name)) throw new Error(`invalid name for build stage: ${JSON.stringify(args[2])}, name can't start with a number or contain symbols`);
  } else if (args.length !== 1) {
    throw new Error('FROM requires either one or three arguments');
  }
  const f = parseFlags(raw.flags, { platform: 'string' });
  return { ...base, original: raw.original.trim(), kind: 'FROM', base: args[0]!, name, platform: flagValue(f, 'platform') };
}

function parseOnbuild(raw: RawInstruction, base: InstructionBase): Instruction {
  const trigger = raw.args[0];
  if (trigger === undefined) throw atLeastOne('ONBUILD');
  parseFlags(raw.flags, {});
  const upper = trigger.trim().toUpperCase();
  if (upper === 'ONBUILD') throw new Error('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  if (upper === 'MAINTAINER' || upper === 'FROM') throw new Error(`${upper} isn't allowed as an ONBUILD trigger`);
  return { ...base, kind: 'ONBUILD', expression: raw.original.replace(/^\s*ONBUILD\s*/i, '') };
}

function commandLine(raw: RawInstruction): CommandLine {
  const args = raw.args.length === 0 ? [] : raw.json ? raw.args : [raw.args.join(' ')];
  return { args, prependShell: !raw.json };
}

function parseHealthcheck(raw: RawInstruction): HealthConfig {
  if (raw.args.length === 0) throw atLeastOne('HEALTHCHECK');
  const type = raw.args[0]!.toUpperCase();
  const rest = raw.args.slice(1);
  if (type === 'NONE') {
    if (rest.length !== 0) throw new Error('HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  const f = parseFlags(raw.flags, { interval: 'string', timeout: 'string', 'start-period': 'string', retries: 'string' });
  if (type !== 'CMD') throw new Error(`Unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`);
  const cmd = rest.length === 0 ? [] : raw.json ? rest : [rest.join(' ')];
  if (cmd.length === 0) throw new Error('Missing command after HEALTHCHECK CMD');
  const health: HealthConfig = { Test: [raw.json ? 'CMD' : 'CMD-SHELL', ...cmd] };
  const interval = optInterval(flagValue(f, 'interval'), 'interval');
  const timeout = optInterval(flagValue(f, 'timeout'), 'timeout');
  const startPeriod = optInterval(flagValue(f, 'start-period'), 'start-period');
  if (interval) health.Interval = interval;
  if (timeout) health.Timeout = timeout;
  if (startPeriod) health.StartPeriod = startPeriod;
  const retries = flagValue(f, 'retries');
  if (retries !== '') {
    if (!/^[+-]?\d+$/.test(retries)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(retries)}: invalid syntax`);
    const n = Number(retries);
    if (n < 1) throw new Error(`--retries must be at least 1 (not ${n})`);
    health.Retries = n;
  }
  return health;
}

function optInterval(value: string, name: string): number {
  if (value === '') return 0;
  const ns = parseGoDuration(value);
  if (ns < MIN_DURATION_NS) throw new Error(`Interval ${JSON.stringify(name)} cannot be less than 1ms`);
  return ns;
}

function parseVolumes(raw: RawInstruction, flags: () => unknown): string[] {
  if (raw.args.length === 0) throw atLeastOne('VOLUME');
  flags();
  return raw.args.map((v) => {
    const trimmed = v.trim();
    if (trimmed === '') throw new Error('VOLUME specified can not be an empty string');
    return trimmed;
  });
}

function parseArgs(args: string[]): ArgDecl[] {
  if (args.length === 0) throw atLeastOne('ARG');
  return args.map((arg) => {
    const eq = arg.indexOf('=');
    if (eq < 0) return { key: arg, value: undefined };
    if (eq === 0) throw new Error('ARG names can not be blank');
    return { key: arg.slice(0, eq), value: arg.slice(eq + 1) };
  });
}

function keyValues(args: string[], kind: string): KeyValue[] {
  if (args.length === 0) throw atLeastOne(kind);
  const pairs: KeyValue[] = [];
  for (let i = 0; i < args.length; i += 2) {
    if (args[i] === '') throw new Error(`${kind} names can not be blank`);
    pairs.push({ key: args[i]!, value: args[i + 1] ?? '' });
  }
  return pairs;
}

function exactlyOne(args: string[], kind: string): void {
  if (args.length !== 1) throw new Error(`${kind} requires exactly one argument`);
}

function atLeastOne(kind: string): Error {
  return new Error(`${kind} requires at least one argument`);
}
