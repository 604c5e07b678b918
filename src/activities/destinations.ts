/**
 * The destinations a request writes to (TEMPORARY sink, PRIVATE target and its local copy, a
 * campaign's ledger), each with the request field it came from, and their preflight as validation
 * problems: the validate step runs it before anything is ordered (storage/preflight.ts probes).
 */
import type { CredentialStore } from '../config/credentials';
import type { LedgerRef } from '../shared/campaign-request';
import type { HarvestRequest } from '../shared/harvest-request';
import { redactText } from '../shared/redact';
import { PreflightError, type SinkDescription, preflightSink } from '../storage/preflight';

/** Where the request's products (and its manifest) go, as preflight descriptions. */
export function requestDestinations(request: HarvestRequest, credentials: CredentialStore): SinkDescription[] {
  const { output } = request;
  if (output.storage === 'TEMPORARY') {
    return [destination('output.sink', output.sink, output.sinkCredentials, credentials)];
  }
  const target = destination('output.target', output.target, output.credentials, credentials, output.endpoint);
  return output.download ? [target, destination('output.download', output.download, undefined, credentials)] : [target];
}

/** A campaign's ledger as a preflight description. */
export function ledgerDestination(ledger: LedgerRef, credentials: CredentialStore): SinkDescription {
  return destination('ledger.url', ledger.url, ledger.credentials, credentials);
}

/**
 * Preflight of each destination; permanent problems come back as `field: reason (fix)` lines
 * (redacted of `secrets`: they go into an InvalidRequest, which no later step redacts), transient
 * errors are thrown (the activity retries). A destination whose credential set the worker lacks
 * is left out: that problem is reported on its own.
 */
export async function preflightProblems(
  destinations: readonly SinkDescription[],
  options: { secrets?: readonly string[]; signal?: AbortSignal } = {},
): Promise<string[]> {
  const problems: string[] = [];
  for (const sink of destinations) {
    if (sink.url.startsWith('s3://') && !sink.s3) continue;
    try {
      await preflightSink({ ...sink, signal: options.signal });
    } catch (err) {
      if (!(err instanceof PreflightError)) throw err;
      problems.push(redactText(err.message, options.secrets));
    }
  }
  return problems;
}

/** One destination as a preflight description, with the keys of its credential set for `s3://`. */
export function destination(
  field: string,
  url: string,
  credentialSet: string | undefined,
  credentials: CredentialStore,
  endpoint?: string,
): SinkDescription {
  if (!url.startsWith('s3://') || !credentialSet || credentials.check(credentialSet, 's3')) return { field, url };
  const keys = credentials.s3(credentialSet);
  return { field, url, s3: { ...keys, endpoint: keys.endpoint ?? endpoint } };
}
