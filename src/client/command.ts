/**
 * The shape of a `dedl-harvest` command: its flags (in `node:util` parseArgs form), its help, and
 * `run`, which returns the exit code.
 */
import type { CliIO } from './io';

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder shown in help, e.g. `<file>`. */
  value?: string;
  description: string;
}

export type FlagValues = Record<string, string | boolean | undefined>;

export interface CommandContext {
  io: CliIO;
  /** Values of the command's flags (and the global ones). */
  flags: FlagValues;
  positionals: string[];
  json: boolean;
}

export interface Command {
  name: string;
  /** `run <request.json>` */
  usage: string;
  summary: string;
  /** Longer help, printed under the usage line. */
  details?: string;
  flags: Record<string, FlagSpec>;
  /** How many positionals the command takes. */
  positionals: { min: number; max: number };
  run(ctx: CommandContext): Promise<number>;
}

export function stringFlag(flags: FlagValues, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}
