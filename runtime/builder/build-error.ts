import { EngineError, type ErrorCode } from '../errors.ts';

/** Lines of the Dockerfile an error is about, 1-based and inclusive (they become editor markers). */
export interface LineRange {
  start: number;
  end: number;
}

/**
 * An error in a build, located in the Dockerfile when it comes from one instruction. The message is Docker's
 * own text (what the CLI prints); `exitCode` is set when a RUN step failed (the stream's errorDetail.code).
 */
export class BuildError extends EngineError {
  readonly range: LineRange | undefined;
  readonly exitCode: number | undefined;
  /** A learner-facing explanation beyond Docker's text (never sent to the CLI). */
  readonly hint: string | undefined;

  constructor(message: string, opts: { range?: LineRange; exitCode?: number; code?: ErrorCode; cause?: unknown; hint?: string } = {}) {
    super(opts.code ?? 'INVALID', message, { cause: opts.cause });
    this.name = 'BuildError';
    this.range = opts.range;
    this.exitCode = opts.exitCode;
    this.hint = opts.hint;
  }
}

/** Docker's `dockerfile parse error line N: …` for an instruction the parser rejected. */
export function parseError(range: LineRange, message: string): BuildError {
  return new BuildError(`dockerfile parse error line ${range.start}: ${message}`, { range });
}

/** Attach a location to an error raised while dispatching one instruction (keeps an existing location). */
export function locate(err: unknown, range: LineRange): BuildError {
  if (err instanceof BuildError) return err.range ? err : new BuildError(err.message, { range, exitCode: err.exitCode, code: err.code, cause: err.cause });
  if (err instanceof EngineError) return new BuildError(err.message, { range, code: err.code, cause: err });
  return new BuildError(err instanceof Error ? err.message : String(err), { range, code: 'INTERNAL', cause: err });
}
