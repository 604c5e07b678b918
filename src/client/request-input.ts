/**
 * Reads a harvest request for `run` and `start` — from a JSON file or from the tutorial's
 * variables — turns local sink paths into absolute `file:///` URLs, and validates it with the
 * same schema as the workflow, before anything is started.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { pathToFileURL } from 'node:url';
import { type HarvestRequest, type HarvestRequestInput, parseHarvestRequest } from '../shared/harvest-request';
import { CliError, InvalidRequestError } from './errors';
import { EXIT } from './exit-codes';
import { annotateProblems, requestFromTutorialEnv } from './tutorial-env';

export interface LoadedRequest {
  /** The request as it goes to the workflow (sinks made absolute, nothing else filled in). */
  input: HarvestRequestInput;
  /** The same, with defaults applied (for display). */
  request: HarvestRequest;
  /** Things to tell the user (e.g. tutorial secrets that were not carried over). */
  notes: string[];
}

export interface RequestSource {
  /** A request JSON file. */
  file?: string;
  /** A tutorial `.env_tutorial` file. */
  fromEnv?: string;
  /** TEMPORARY sink for `--from-env` (default `./harvest-output`). */
  sink?: string;
  /** Credential set names for `--from-env`. */
  outputCredentials?: string;
  sourceCredentials?: string;
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** `./out`, `out`, `/data/out` → `file:///…/out` (relative to `cwd`); URLs are left alone. */
export function sinkToUrl(sink: string, cwd: string): string {
  if (SCHEME.test(sink)) return sink;
  return pathToFileURL(path.resolve(cwd, sink)).toString();
}

/** Makes every local sink of a request (output.sink, output.download) an absolute file URL. */
export function resolveSinks(input: unknown, cwd: string): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const request = input as Record<string, unknown>;
  const output = request.output;
  if (typeof output !== 'object' || output === null || Array.isArray(output)) return input;
  const resolved: Record<string, unknown> = { ...(output as Record<string, unknown>) };
  for (const key of ['sink', 'download']) {
    const value = resolved[key];
    if (typeof value === 'string' && value !== '') resolved[key] = sinkToUrl(value, cwd);
  }
  return { ...request, output: resolved };
}

export async function loadRequest(from: RequestSource, cwd: string): Promise<LoadedRequest> {
  if (from.fromEnv) return loadTutorialRequest(from, cwd);
  if (!from.file) throw new CliError('no request given: pass a request JSON file or --from-env <file>', EXIT.INVALID);
  const parsedJson = await readJsonFile(from.file, cwd, (problems) => new InvalidRequestError(problems, from.file));
  const input = resolveSinks(parsedJson, cwd);
  const parsed = parseHarvestRequest(input);
  if (!parsed.ok) throw new InvalidRequestError(parsed.problems, from.file);
  return { input: input as HarvestRequestInput, request: parsed.request, notes: [] };
}

async function loadTutorialRequest(from: RequestSource, cwd: string): Promise<LoadedRequest> {
  const file = path.resolve(cwd, from.fromEnv!);
  const variables = parseEnv(await readText(file, from.fromEnv!));
  const mapping = requestFromTutorialEnv(variables, {
    sink: from.sink ?? './harvest-output',
    outputCredentials: from.outputCredentials ?? 'islet',
    sourceCredentials: from.sourceCredentials ?? 'external',
  });
  const input = resolveSinks(mapping.request, cwd) as HarvestRequestInput;
  const parsed = parseHarvestRequest(input);
  if (!parsed.ok) throw new InvalidRequestError(annotateProblems(parsed.problems, mapping.origins), from.fromEnv);
  return { input, request: parsed.request, notes: mapping.notes };
}

/**
 * Reads a JSON input file: a missing or unreadable file is a one-line CLI error, and text that is
 * not JSON is refused through `refused` (so each command words its own refusal).
 */
export async function readJsonFile(
  file: string,
  cwd: string,
  refused: (problems: string[]) => Error,
): Promise<unknown> {
  const raw = await readText(path.resolve(cwd, file), file);
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw refused([`(request): not valid JSON: ${(err as Error).message}`]);
  }
}

async function readText(file: string, shown: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'ENOENT' ? `${shown}: no such file` : `${shown}: cannot read it (${code ?? 'error'})`,
      EXIT.INVALID,
    );
  }
}
