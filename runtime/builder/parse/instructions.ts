import type { HealthConfig } from '../../image/config.ts';
import type { LineRange } from '../build-error.ts';

/** Fields every parsed instruction has. */
export interface InstructionBase {
  /** The instruction text as the Step line shows it (continuations joined, original case). */
  original: string;
  range: LineRange;
}

export interface KeyValue {
  key: string;
  /** Raw value with quotes and escapes; expansion turns it into the final value. */
  value: string;
}

/** The words of RUN/CMD/ENTRYPOINT/HEALTHCHECK CMD: exec form, or one shell-form string. */
export interface CommandLine {
  args: string[];
  /** Shell form: the current SHELL is put in front. */
  prependShell: boolean;
}

export type Instruction =
  | (InstructionBase & { kind: 'ENV'; pairs: KeyValue[] })
  | (InstructionBase & { kind: 'LABEL'; pairs: KeyValue[]; /** `--label` options: taken literally. */ noExpand?: boolean })
  | (InstructionBase & { kind: 'MAINTAINER'; maintainer: string })
  | (InstructionBase & { kind: 'ADD' | 'COPY'; sources: string[]; dest: string; chown: string; chmod: string; from: string })
  | (InstructionBase & { kind: 'ONBUILD'; expression: string })
  | (InstructionBase & { kind: 'WORKDIR'; path: string })
  | (InstructionBase & { kind: 'RUN'; command: CommandLine; flagsUsed: string[] })
  | (InstructionBase & { kind: 'CMD'; command: CommandLine })
  | (InstructionBase & { kind: 'ENTRYPOINT'; command: CommandLine | null })
  | (InstructionBase & { kind: 'HEALTHCHECK'; health: HealthConfig })
  | (InstructionBase & { kind: 'EXPOSE'; ports: string[] })
  | (InstructionBase & { kind: 'USER'; user: string })
  | (InstructionBase & { kind: 'VOLUME'; volumes: string[] })
  | (InstructionBase & { kind: 'STOPSIGNAL'; signal: string })
  | (InstructionBase & { kind: 'ARG'; args: ArgDecl[] })
  | (InstructionBase & { kind: 'SHELL'; shell: string[] });

export interface ArgDecl {
  key: string;
  /** Default value (raw), or undefined for `ARG NAME`. */
  value: string | undefined;
}

export type ArgInstruction = Extract<Instruction, { kind: 'ARG' }>;

/** A `FROM` line and the instructions of its stage. */
export interface Stage {
  /** Raw image reference (may hold `$ARG`s). */
  base: string;
  /** Lower-cased `AS` name, or ''. */
  name: string;
  platform: string;
  original: string;
  range: LineRange;
  commands: Instruction[];
}

export interface ParsedDockerfile {
  /** ARG lines before the first FROM. */
  metaArgs: ArgInstruction[];
  stages: Stage[];
  escape: '\\' | '`';
  warnings: string[];
  directives: Record<string, string>;
}
