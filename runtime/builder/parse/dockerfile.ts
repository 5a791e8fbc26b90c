import { DockerfileParser } from 'dockerfile-ast';
import { BuildError, parseError, type LineRange } from '../build-error.ts';
import type { ArgInstruction, Instruction, ParsedDockerfile, Stage } from './instructions.ts';
import { isKnownCommand, lineArgs, LineParseError, type LineArgs } from './line-args.ts';
import { scanLines, type LogicalLine } from './lines.ts';
import { parseInstruction, type FromLine, type RawInstruction } from './parse-instruction.ts';
import { splitCommand } from './words.ts';

const HEREDOC_HINT =
  'Heredocs (<<EOF) need BuildKit; the classic builder reads each line of the heredoc body as a new instruction.';

/**
 * Parse a Dockerfile the way Docker 20.10's classic builder does: logical lines (lines.ts), Docker's
 * per-command argument rules (line-args.ts) and instruction checks (parse-instruction.ts), grouped into
 * global ARGs and stages. Errors are BuildErrors with Docker's text and the offending line range.
 */
export function parseDockerfile(source: string, fileName = 'Dockerfile'): ParsedDockerfile {
  if (source.length === 0) throw new BuildError(`the Dockerfile (${fileName}) cannot be empty`);
  const scanned = scanLines(source, fileName);
  const metaArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  let previous: LogicalLine | undefined;
  for (const line of scanned.lines) {
    const parsed = parseLine(line, scanned.escape, fileName, previous);
    previous = line;
    if (parsed.kind === 'FROM') {
      stages.push({ base: parsed.base, name: parsed.name, platform: parsed.platform, original: parsed.original, range: parsed.range, commands: [] });
    } else if (stages.length === 0 && parsed.kind === 'ARG') {
      metaArgs.push(parsed);
    } else if (stages.length === 0) {
      throw new BuildError('no build stage in current context', { range: parsed.range });
    } else {
      stages[stages.length - 1]!.commands.push(parsed);
    }
  }
  return { metaArgs, stages, escape: scanned.escape, warnings: scanned.warnings, directives: scanned.directives };
}

/** Parse one logical line (also used for ONBUILD triggers when they run). */
export function parseLine(line: LogicalLine, escape: string, fileName = 'Dockerfile', previous?: LogicalLine): Instruction | FromLine {
  const range: LineRange = { start: line.startLine, end: line.endLine };
  const { cmd, flags, args: rest } = splitCommand(line.text);
  let parsedArgs: LineArgs;
  try {
    parsedArgs = cmd === 'onbuild' ? onbuildArgs(rest, escape) : lineArgs(cmd, rest, escape);
  } catch (err) {
    if (err instanceof LineParseError) throw new BuildError(`failed to parse ${fileName}: ${err.message}`, { range });
    throw err;
  }
  if (!isKnownCommand(cmd)) {
    const hint = previous && opensHeredoc(previous.text, escape) ? HEREDOC_HINT : undefined;
    throw new BuildError(`dockerfile parse error line ${range.start}: unknown instruction: ${cmd.toUpperCase()}`, { range, hint });
  }
  const raw: RawInstruction = { ...parsedArgs, cmd, flags, original: line.text.trim(), range };
  try {
    return parseInstruction(raw);
  } catch (err) {
    throw parseError(range, (err as Error).message);
  }
}

/** ONBUILD's argument is a whole instruction: its command word, then that command's own arguments. */
function onbuildArgs(rest: string, escape: string): LineArgs {
  if (rest === '') return { args: [], json: false };
  const child = splitCommand(rest);
  const inner = lineArgs(child.cmd, child.args, escape);
  return { args: [child.cmd, ...inner.args], json: inner.json };
}

/** dockerfile-ast recognises BuildKit heredocs; used only to explain the classic builder's confusing error. */
function opensHeredoc(text: string, escape: string): boolean {
  const prefix = escape === '`' ? '# escape=`\n' : '';
  const instruction = DockerfileParser.parse(prefix + text).getInstructions()[0] as unknown as { getHeredocs?: () => unknown[] } | undefined;
  return (instruction?.getHeredocs?.().length ?? 0) > 0;
}
