/** One command of a compatibility script: docker CLI arguments, run the same way on every target. */
export interface Step {
  args: string[];
  /** Files (re)written in the working directory just before this step runs: a learner editing their app. */
  write?: Record<string, string>;
  input?: string;
  /**
   * A documented, intentional difference from Docker: the step still runs on both targets and the report
   * lists it with this reason, but the outputs are not required to match.
   */
  differs?: string;
  /** Compare only the exit code (output is legitimately target-specific, e.g. version strings). */
  exitCodeOnly?: boolean;
  /**
   * Rows after the first line may come in any order: dockerd orders images created in the same second
   * by Go map iteration, which is random.
   */
  unordered?: boolean;
}

export interface Script {
  name: string;
  /** Files written into the (per-target) working directory before the first step. */
  files?: Record<string, string>;
  /** Where in the seed lessons these commands come from, or what around them they cover. */
  covers: string;
  steps: Step[];
}

/** What one step printed on one target, after normalisation. */
export interface Outcome {
  args: string[];
  code: number;
  stdout: string;
  stderr: string;
}
