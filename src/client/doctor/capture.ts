/**
 * `dedl-harvest doctor --capture DIR`: the answers the real services gave during the checks, as
 * fixtures in the project's shared format (test/fixtures/real/: one JSON file per answer, named
 * `<service>-<what>-<YYYY-MM-DD>[-<n>].json`), with every secret and personal value replaced by
 * `<…>`, so a user with an account can hand the service as it is today to the project.
 */
import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type HookEndpoints, dedlTokenUrl, despTokenUrl } from '../../hook/endpoints';
import { REDACTED, redactText, redactUrl } from '../../shared/redact';
import { IDP_SECRET_KEY } from '../../shared/secret-patterns';
import type { RecordedExchange } from './recorder';

/** What replaces a secret or personal value in a fixture (the shared convention). */
export const PLACEHOLDER = '<…>';

export interface CapturedFixture {
  file: string;
  what: string;
}

interface Classified {
  service: 'hook' | 'desp' | 'dedl-auth' | 'stac';
  what: string;
  notes: string;
  /** Keep the request body in the fixture (a STAC search body; never a token form). */
  keepRequestBody?: boolean;
}

/**
 * Writes one fixture per recognised answer (token, Workflows, STAC search) into `dir`, never
 * overwriting a file; returns what was written. `secrets` are literal values (passwords, keys,
 * user names) to replace wherever they appear, on top of tokens, JWTs and e-mail addresses.
 */
export async function writeCaptures(
  dir: string,
  exchanges: readonly RecordedExchange[],
  endpoints: HookEndpoints,
  secrets: readonly string[],
  now = new Date(),
): Promise<CapturedFixture[]> {
  await mkdir(dir, { recursive: true });
  const recorded = now.toISOString().slice(0, 10);
  // Tokens seen in any answer are secrets in every other one too.
  const known = [...secrets, ...exchanges.flatMap((e) => tokensIn(e.body))].filter((s) => s.length >= 4);
  const written: CapturedFixture[] = [];
  for (const exchange of exchanges) {
    const kind = classify(exchange, endpoints);
    if (!kind) continue;
    const url = new URL(exchange.url);
    const json = parseJson(exchange.body);
    const fixture = {
      source: `${url.origin} (recorded by dedl-harvest doctor --capture)`,
      commit: null,
      recorded,
      request: {
        method: exchange.method,
        path: scrub(redactUrl(url).slice(url.origin.length), known),
        ...(kind.keepRequestBody && exchange.requestBody
          ? { body: redactJson(parseJson(exchange.requestBody), known) }
          : {}),
      },
      status: exchange.status ?? null,
      body: json === undefined ? scrub(exchange.body.slice(0, 4000), known) : redactJson(json, known),
      notes: [
        kind.notes,
        json === undefined ? `not JSON (${exchange.contentType ?? 'no content type'}): its text, shortened` : '',
        exchange.truncated ? 'the body was longer than the recorder keeps (4 MiB) and is cut' : '',
        'Secrets, tokens and personal values replaced by "<…>".',
      ]
        .filter(Boolean)
        .join(' '),
    };
    const file = await freeName(dir, `${kind.service}-${kind.what}-${recorded}`);
    await writeFile(file, `${JSON.stringify(fixture, null, 2)}\n`, { flag: 'wx' });
    written.push({ file, what: `${exchange.method} ${fixture.request.path} → ${exchange.status ?? 'no answer'}` });
  }
  return written;
}

function classify(exchange: RecordedExchange, endpoints: HookEndpoints): Classified | undefined {
  const url = exchange.url.split('?')[0]!;
  const grant = formField(exchange.requestBody, 'grant_type');
  if (url === despTokenUrl(endpoints)) {
    return { service: 'desp', what: `token-${grantName(grant)}`, notes: `DESP token endpoint, grant ${grant}.` };
  }
  if (url === dedlTokenUrl(endpoints)) {
    return { service: 'dedl-auth', what: `token-${grantName(grant)}`, notes: `DEDL token endpoint, grant ${grant}.` };
  }
  const odata = endpoints.odata.replace(/\/?$/, '/');
  if (url === `${odata}Workflows`) {
    const expanded = /\$expand=WorkflowOptions/i.test(decodeURIComponent(exchange.url));
    return expanded
      ? { service: 'hook', what: 'workflow-options', notes: 'One workflow with its option definitions.' }
      : { service: 'hook', what: 'workflows', notes: 'The list of workflows the account may run.' };
  }
  if (url === `${endpoints.stac.replace(/\/+$/, '')}/search`) {
    return { service: 'stac', what: 'search', notes: 'The first page of a STAC item search.', keepRequestBody: true };
  }
  return undefined;
}

function grantName(grant: string | undefined): string {
  if (grant === 'urn:ietf:params:oauth:grant-type:token-exchange') return 'exchange';
  return (grant ?? 'unknown').replace(/_/g, '-');
}

function formField(body: string | undefined, name: string): string | undefined {
  if (!body) return undefined;
  try {
    return new URLSearchParams(body).get(name) ?? undefined;
  } catch {
    return undefined;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Token values of an identity provider's answer. */
function tokensIn(body: string): string[] {
  const json = parseJson(body);
  if (!json || typeof json !== 'object') return [];
  return Object.entries(json as Record<string, unknown>)
    .filter(([key, value]) => IDP_SECRET_KEY.test(key) && typeof value === 'string')
    .map(([, value]) => value as string);
}

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/** A JSON value with secret keys' values and secret-looking strings replaced; its shape and types kept. */
export function redactJson(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return scrub(value, secrets);
  if (Array.isArray(value)) return value.map((v) => redactJson(v, secrets));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, v]) => [
        key,
        IDP_SECRET_KEY.test(key) && typeof v === 'string' ? PLACEHOLDER : redactJson(v, secrets),
      ]),
    );
  }
  return value;
}

/** A string with literal secrets, JWTs, bearer values, signed URL parameters and e-mail addresses replaced. */
function scrub(text: string, secrets: readonly string[]): string {
  return redactText(text, secrets).replaceAll(REDACTED, PLACEHOLDER).replace(EMAIL, PLACEHOLDER);
}

async function freeName(dir: string, stem: string): Promise<string> {
  for (let n = 1; ; n++) {
    const file = path.join(dir, `${stem}${n === 1 ? '' : `-${n}`}.json`);
    try {
      await access(file);
    } catch {
      return file;
    }
  }
}
