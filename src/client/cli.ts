/**
 * `dedl-harvest`: the command line of dedl-harvester. `runCli(argv, io)` parses the arguments,
 * loads `.env`, runs one command and returns its exit code; it never exits the process itself
 * (bin/dedl-harvest.js does), so tests run it in-process.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, parseEnv } from 'node:util';
import { WorkflowNotFoundError } from '@temporalio/client';
import { ConfigError } from '../config/worker-config';
import { redactText } from '../shared/redact';
import type { Command, FlagSpec, FlagValues } from './command';
import { campaignCommand } from './commands/campaign';
import { cancelCommand } from './commands/cancel';
import { codecServerCommand } from './commands/codec-server';
import { demoCommand } from './commands/demo';
import { devCommand } from './commands/dev';
import { doctorCommand } from './commands/doctor';
import { emulatorCommand } from './commands/emulator';
import { harvestCommand } from './commands/harvest';
import { redeliverCommand } from './commands/redeliver';
import { resultCommand } from './commands/result';
import { runCommand } from './commands/run';
import { scheduleCommand } from './commands/schedule';
import { startCommand } from './commands/start';
import { statusCommand } from './commands/status';
import { watchCommand } from './commands/watch';
import { workerCommand } from './commands/worker';
import { workflowsCommand } from './commands/workflows';
import { CliError, InvalidInputError, UsageError } from './errors';
import { EXIT, EXIT_CODE_HELP } from './exit-codes';
import { type CliIO, line, printJson } from './io';
import { secretsOf, withoutLiterals } from './secrets';

export const COMMANDS: readonly Command[] = [
  runCommand,
  startCommand,
  statusCommand,
  watchCommand,
  resultCommand,
  cancelCommand,
  redeliverCommand,
  harvestCommand,
  campaignCommand,
  scheduleCommand,
  workflowsCommand,
  doctorCommand,
  workerCommand,
  emulatorCommand,
  codecServerCommand,
  devCommand,
  demoCommand,
];

const GLOBAL_FLAGS: Record<string, FlagSpec> = {
  json: { type: 'boolean', description: 'write one JSON document to stdout (for scripts)' },
  help: { type: 'boolean', short: 'h', description: "this help; with a command, the command's help" },
};

export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  let json = argv.includes('--json');
  try {
    const parsed = parseCommandLine(argv);
    json = parsed.flags.json === true;
    if (!parsed.command) {
      line(parsed.flags.help ? io.stdout : io.stderr, mainHelp());
      return parsed.flags.help ? EXIT.OK : EXIT.INVALID;
    }
    if (parsed.flags.help) {
      line(io.stdout, commandHelp(parsed.command));
      return EXIT.OK;
    }
    const { command, positionals, flags } = parsed;
    if (positionals.length < command.positionals.min || positionals.length > command.positionals.max) {
      throw new UsageError(`usage: dedl-harvest ${command.usage}`);
    }
    loadDotEnv(io);
    return await command.run({ io, flags, positionals, json });
  } catch (err) {
    return reportError(io, json, err);
  }
}

interface ParsedCommandLine {
  command?: Command;
  positionals: string[];
  flags: FlagValues;
}

/**
 * The command is the first bare word (global flags are all booleans, so none takes a value);
 * the rest is parsed with the global flags plus that command's own, so commands never need to
 * agree on their flags' names or types.
 */
function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  const at = argv.findIndex((arg) => !arg.startsWith('-'));
  const name = at >= 0 ? argv[at] : undefined;
  const rest = at >= 0 ? [...argv.slice(0, at), ...argv.slice(at + 1)] : [...argv];
  if (name === undefined) return { positionals: [], flags: parseFlags(rest, GLOBAL_FLAGS).flags };
  if (name === 'help') {
    const { flags, positionals } = parseFlags(rest, GLOBAL_FLAGS);
    return {
      command: positionals[0] ? findCommand(positionals[0]) : undefined,
      positionals: [],
      flags: { ...flags, help: true },
    };
  }
  const command = findCommand(name);
  return { command, ...parseFlags(rest, { ...GLOBAL_FLAGS, ...command.flags }, command) };
}

function parseFlags(
  args: string[],
  specs: Record<string, FlagSpec>,
  command?: Command,
): { flags: FlagValues; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: Object.fromEntries(
        Object.entries(specs).map(([name, spec]) => [
          name,
          { type: spec.type, ...(spec.short ? { short: spec.short } : {}) },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    });
    return { flags: values as FlagValues, positionals };
  } catch (err) {
    const unknown = /Unknown option '([^']+)'/.exec((err as Error).message)?.[1];
    if (unknown && command) {
      throw new UsageError(`${unknown} is not an option of "${command.name}"; see dedl-harvest ${command.name} --help`);
    }
    throw new UsageError(`${(err as Error).message.split('. ')[0]}; see dedl-harvest --help`);
  }
}

function findCommand(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) throw new UsageError(`unknown command "${name}"; see dedl-harvest --help`);
  return command;
}

/** `.env` in the working directory, merged under the variables already set (as `process.loadEnvFile` does). */
function loadDotEnv(io: CliIO): void {
  let text: string;
  try {
    text = readFileSync(path.join(io.cwd, '.env'), 'utf8');
  } catch {
    return;
  }
  for (const [key, value] of Object.entries(parseEnv(text))) {
    if (io.env[key] === undefined && value !== undefined) io.env[key] = value;
  }
}

/** One clear message (a list for refused input), never a stack trace unless DEBUG=1, never a secret. */
function reportError(io: CliIO, json: boolean, err: unknown): number {
  let exitCode: number = EXIT.ERROR;
  let message: string;
  let problems: string[] | undefined;
  if (err instanceof InvalidInputError) {
    exitCode = err.exitCode;
    message = err.summary;
    problems = err.problems;
  } else if (err instanceof CliError) {
    exitCode = err.exitCode;
    message = err.message;
  } else if (err instanceof ConfigError) {
    exitCode = EXIT.INVALID;
    message = 'invalid configuration (environment or .env)';
    problems = err.problems;
  } else if (err instanceof WorkflowNotFoundError) {
    message = `no harvest with workflow id "${err.workflowId}" in this namespace`;
  } else {
    message = err instanceof Error ? err.message || err.name : String(err);
  }
  const secrets = secretsOf(io.env);
  message = redactText(message, secrets).split('\n')[0]!;
  // Problems are built from field names and our own messages: only literal secrets can sneak in.
  problems = problems?.map((p) => withoutLiterals(p, secrets));

  if (json) {
    printJson(io.stdout, { exitCode, error: { message, ...(problems ? { problems } : {}) } });
  } else {
    line(io.stderr, `dedl-harvest: ${message}${problems ? ':' : ''}`);
    for (const problem of problems ?? []) line(io.stderr, `  - ${problem}`);
  }
  if (io.env.DEBUG === '1' && err instanceof Error && err.stack) line(io.stderr, redactText(err.stack, secrets));
  return exitCode;
}

/** Where descriptions start in help: labels are indented by 2 and kept 2 spaces clear of them. */
const HELP_COLUMN = 32;

/** A help line: the label, then its text at HELP_COLUMN; a label too long for that puts the text on the next line. */
export function helpRow(label: string, text: string): string {
  const indented = `  ${label}`;
  return indented.length + 2 <= HELP_COLUMN
    ? `${indented.padEnd(HELP_COLUMN)}${text}`
    : `${indented}\n${' '.repeat(HELP_COLUMN)}${text}`;
}

/**
 * A command's label in the main help: its usage up to the first alternative or option; a command
 * with subcommands (`campaign plan|start|…`) shows them without the argument placeholder.
 */
function commandLabel(command: Command): string {
  const usage = command.usage.split(' | ')[0]!.split(' [-')[0]!;
  const [name, first] = usage.split(' ');
  return first?.includes('|') ? `${name} ${first}` : usage;
}

export function mainHelp(): string {
  const row = (c: Command) => helpRow(commandLabel(c), c.summary);
  const harvest = COMMANDS.filter((c) =>
    ['run', 'start', 'status', 'watch', 'result', 'cancel', 'harvest', 'campaign', 'schedule'].includes(c.name),
  );
  const setup = COMMANDS.filter((c) => !harvest.includes(c));
  return [
    'dedl-harvest: durable harvests of Earth-observation products from the DestinE Data Lake Hook, on Temporal',
    '',
    'Usage: dedl-harvest <command> [options]',
    '',
    'Harvests:',
    ...harvest.map(row),
    '',
    'Workers and local setup:',
    ...setup.map(row),
    '',
    'Global options:',
    ...flagLines(GLOBAL_FLAGS),
    '',
    'Environment (a .env file in the working directory is loaded first; variables already set win):',
    '  TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*: as for the Temporal CLI',
    '  DEDL_TASK_QUEUE (default dedl-harvest); the worker settings: dedl-harvest worker --help',
    '  DEBUG=1 prints stack traces of errors',
    '',
    EXIT_CODE_HELP,
  ].join('\n');
}

export function commandHelp(command: Command): string {
  const flags = flagLines(command.flags);
  return [
    `Usage: dedl-harvest ${command.usage}`,
    '',
    command.summary,
    ...(command.details ? ['', command.details] : []),
    ...(flags.length ? ['', 'Options:', ...flags] : []),
    '',
    'Global options:',
    ...flagLines(GLOBAL_FLAGS),
    '',
    EXIT_CODE_HELP,
  ].join('\n');
}

function flagLines(flags: Record<string, FlagSpec>): string[] {
  return Object.entries(flags).map(([name, spec]) => {
    const label = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.value ? ` ${spec.value}` : ''}`;
    return helpRow(label, spec.description);
  });
}

/** The bin's entry point: real process streams and environment, exit with the command's code. */
export function main(): void {
  // `dedl-harvest … | head`: the reader went away; stop quietly, as other command-line tools do.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.OK);
  });
  runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`dedl-harvest: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(EXIT.ERROR);
    },
  );
}
