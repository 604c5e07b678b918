/**
 * Opens the ledger a campaign names (a folder or an S3 prefix), once per worker and location, with
 * the credential set it names. Also converts between the locations products have in reports
 * (`file:///…` URLs) and in the ledger (absolute paths, or `s3://bucket/key` as is).
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CredentialStore } from '../config/credentials';
import type { LedgerRef } from '../shared/campaign-request';
import type { Ledger } from '../storage/ledger';
import { FileLedger } from '../storage/ledger-file';
import { S3Ledger } from '../storage/ledger-s3';
import { createS3Client } from '../storage/s3-client';

export type OpenLedger = (ref: LedgerRef) => Promise<Ledger>;

export function createLedgerAccess(credentials: CredentialStore): OpenLedger {
  const opened = new Map<string, Promise<Ledger>>();
  return (ref) => {
    const id = `${ref.url}\n${ref.credentials ?? ''}`;
    let ledger = opened.get(id);
    if (!ledger) {
      ledger = open(ref, credentials);
      opened.set(id, ledger);
      ledger.catch(() => opened.delete(id));
    }
    return ledger;
  };
}

async function open(ref: LedgerRef, credentials: CredentialStore): Promise<Ledger> {
  if (ref.url.startsWith('file://')) return FileLedger.open(fileURLToPath(ref.url));
  if (!ref.credentials) throw new Error(`the ledger ${ref.url} needs a credential set`);
  return S3Ledger.fromUrl(createS3Client(credentials.s3(ref.credentials)), ref.url);
}

/** A report location as the ledger stores it: `file:` URLs become absolute paths. */
export function toLedgerLocation(location: string): string {
  return location.startsWith('file:') ? fileURLToPath(location) : location;
}

/** A ledger location as reports show it: absolute paths become `file:` URLs. */
export function fromLedgerLocation(location: string): string {
  return location.startsWith('/') ? pathToFileURL(location).toString() : location;
}
