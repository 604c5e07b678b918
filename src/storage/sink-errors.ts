/**
 * The one classifier of sink errors: is a filesystem or S3 failure permanent (the folder or bucket
 * cannot take the product however often we retry: fail fast), a full disk (keep the `.part`, wait
 * for room, resume), or transient (retry with backoff)? Preflight, deliveries, manifests and the
 * activities' failure mapping all ask this one function, so they agree.
 */

export type SinkErrorKind = 'permanent' | 'disk_full' | 'transient';

export interface SinkErrorClass {
  kind: SinkErrorKind;
  /** The errno code or S3 error name that decided it, e.g. `ENOTDIR`, `NoSuchBucket`. */
  code: string;
  /** What the user should do about it (permanent and disk-full errors only). */
  fix?: string;
}

/** Filesystem errors no retry can cure: the path is not (and cannot become) a writable folder. */
const PERMANENT_ERRNO: Record<string, string> = {
  ENOTDIR: 'a part of the path is a file, not a folder: choose another folder',
  EISDIR: 'a folder stands where a file must be written: choose another folder',
  EEXIST: 'a file stands where the folder must be: choose another folder',
  EACCES: 'the worker may not write there: give its user write permission or choose another folder',
  EPERM: 'the worker may not write there: give its user write permission or choose another folder',
  EROFS: 'the filesystem is mounted read-only: choose a writable folder',
  ENAMETOOLONG: 'the path is too long: choose a shorter folder',
  ELOOP: 'the path has a symbolic-link loop: fix the links or choose another folder',
};

/** Filesystem errors that pass when space is freed. */
const DISK_FULL_ERRNO: Record<string, string> = {
  ENOSPC: 'the disk is full: free space (the download resumes where it stopped)',
  EDQUOT: "the user's disk quota is used up: free space or raise the quota (the download resumes where it stopped)",
};

/** S3 error names that say the bucket or the keys are wrong (retrying changes nothing). */
const PERMANENT_S3: Record<string, string> = {
  NoSuchBucket: 'the bucket does not exist: create it or fix the bucket name',
  AccessDenied: 'the credentials may not write to this prefix: grant s3:PutObject (and s3:DeleteObject) on it',
  AllAccessDisabled: 'access to the bucket is disabled: ask its owner',
  InvalidAccessKeyId: 'the access key is unknown to this S3 endpoint: fix the credential set',
  // versitygw's name for an unknown access key (what AWS calls InvalidAccessKeyId).
  XAdminUserNotFound: 'the access key is unknown to this S3 endpoint: fix the credential set',
  SignatureDoesNotMatch: 'the secret key does not match the access key: fix the credential set',
  InvalidBucketName: 'the bucket name is not valid: fix it',
  AccountProblem: "the S3 account has a problem: ask the store's operator",
  PermanentRedirect: 'the bucket lives at another endpoint or region: fix the endpoint',
  InvalidToken: 'the credentials are not valid: fix the credential set',
  ExpiredToken: 'the credentials have expired: renew the credential set',
};

/** Classifies an error thrown while writing to, or checking, a sink. */
export function classifySinkError(err: unknown): SinkErrorClass {
  const e = err as { code?: unknown; name?: unknown; $metadata?: { httpStatusCode?: number } } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (code && code in PERMANENT_ERRNO) return { kind: 'permanent', code, fix: PERMANENT_ERRNO[code] };
  if (code && code in DISK_FULL_ERRNO) return { kind: 'disk_full', code, fix: DISK_FULL_ERRNO[code] };
  const name = typeof e?.name === 'string' ? e.name : undefined;
  if (name && name in PERMANENT_S3) return { kind: 'permanent', code: name, fix: PERMANENT_S3[name] };
  // HEAD requests carry no error body, so the SDK names them after the status only.
  const status = e?.$metadata?.httpStatusCode;
  if (name === 'NotFound' && status === 404) {
    return { kind: 'permanent', code: 'NoSuchBucket', fix: PERMANENT_S3.NoSuchBucket };
  }
  if (status === 403) return { kind: 'permanent', code: name ?? 'Forbidden', fix: PERMANENT_S3.AccessDenied };
  return { kind: 'transient', code: code ?? name ?? 'Error' };
}

/** True for errors a sink will keep giving until someone changes the folder, bucket or keys. */
export function isPermanentSinkError(err: unknown): boolean {
  return classifySinkError(err).kind === 'permanent';
}

/** True for a full disk (or quota): keep what was written and try again later. */
export function isDiskFull(err: unknown): boolean {
  return classifySinkError(err).kind === 'disk_full';
}

/** True when the store does not offer what was asked (S3 `NotImplemented`, HTTP 501), e.g. a conditional write. */
export function isNotImplemented(err: unknown): boolean {
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: number } } | null;
  return e?.name === 'NotImplemented' || e?.$metadata?.httpStatusCode === 501;
}
