/**
 * Errors a command throws to end with a given exit code and a clear message. Anything else that
 * escapes a command is reported as a one-line error with exit code 1 (with its stack if DEBUG=1).
 */
import { EXIT, type ExitCode } from './exit-codes';

/** Thrown by commands for an expected failure; `message` is what the user sees. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.ERROR,
  ) {
    super(message);
  }
}

/** The command line itself is wrong (unknown command or flag, missing argument). */
export class UsageError extends CliError {
  override readonly name: string = 'UsageError';
  constructor(message: string) {
    super(message, EXIT.INVALID);
  }
}

/** Input refused with a list of problems, each naming its field (exit code 2). */
export class InvalidInputError extends CliError {
  override readonly name: string = 'InvalidInputError';
  constructor(
    readonly summary: string,
    readonly problems: string[],
  ) {
    super(`${summary}:\n${problems.map((p) => `  - ${p}`).join('\n')}`, EXIT.INVALID);
  }
}

/** A harvest request refused by the CLI's own check, before anything was started. */
export class InvalidRequestError extends InvalidInputError {
  override readonly name: string = 'InvalidRequestError';
  constructor(problems: string[], source?: string) {
    super(`the harvest request${source ? ` ${source}` : ''} was refused; nothing was started`, problems);
  }
}
