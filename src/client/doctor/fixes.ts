/**
 * What `dedl-harvest doctor` tells the user to do about each failure: the error a check met,
 * turned into one line saying what went wrong and one saying how to fix it. Messages come from
 * our own error classes (already redacted) and name variables, never their values.
 */
import { isGrpcServiceError } from '@temporalio/client';
import type { HookAuthMode } from '../../config/worker-config';
import {
  HookAuthError,
  HookConnectionError,
  HookError,
  HookForbiddenError,
  HookRateLimitError,
  HookResponseError,
  HookServerError,
} from '../../hook/errors';

export interface Diagnosis {
  detail: string;
  fix: string;
}

const ROLES_DOC =
  'https://destine-data-lake-docs.data.destination-earth.eu/en/latest/my_datalake_services/How-to-request-for-hook-roles-on-My-DataLake-Services/How-to-request-for-hook-roles-on-My-DataLake-Services.html';
const REPORT_IT =
  'run `dedl-harvest doctor --capture <dir>` and send the files it writes (secrets replaced) with a bug report';

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

/** The login failed: which step, and what to change. */
export function loginFailure(auth: HookAuthMode, err: unknown, despIam: string): Diagnosis {
  const detail = messageOf(err);
  const common = serviceFailure(err, auth === 'desp' ? 'DESP_IAM_URL / DEDL_IAM_URL' : 'DEDL_IAM_URL');
  if (common) return common;
  if (err instanceof HookAuthError) {
    if (/terms and conditions/i.test(detail)) {
      return { detail, fix: `log in once in a browser at ${despIam} and accept the DESP terms and conditions` };
    }
    if (/no OTP secret/i.test(detail)) {
      return { detail, fix: 'the account has 2FA: set DESP_OTP_SECRET to the base32 secret of its authenticator app' };
    }
    if (/one-time code refused/i.test(detail)) {
      return {
        detail,
        fix: "check DESP_OTP_SECRET, and that this machine's clock is right (one-time codes are time-based)",
      };
    }
    if (/^DESP login/i.test(detail)) {
      return {
        detail: `DESP login refused: ${detail.replace(/^DESP login failed:\s*/i, '')}`,
        fix: `check DESP_USERNAME/DESP_PASSWORD; log in once in a browser at ${despIam} and accept the terms there`,
      };
    }
    if (auth === 'client-credentials') {
      return { detail, fix: 'check DEDL_CLIENT_ID/DEDL_CLIENT_SECRET (a service account of My DataLake Services)' };
    }
    if (auth === 'desp' && /realms\/dedl/.test(err.url ?? '')) {
      return {
        detail: `DEDL refused to exchange the DESP token: ${err.detail ?? detail}`,
        fix: 'the DESP login works but DEDL refused it: check that the account has Data Lake access (My DataLake Services)',
      };
    }
  }
  return { detail, fix: `the identity provider answered unexpectedly; ${REPORT_IT}` };
}

/** A Hook or STAC call failed after the login worked. */
export function hookFailure(auth: HookAuthMode, err: unknown, urlVariable: string): Diagnosis {
  const detail = messageOf(err);
  const common = serviceFailure(err, urlVariable);
  if (common) return common;
  if (err instanceof HookForbiddenError) {
    return {
      detail,
      fix: `the account lacks the Hook roles (hook-workflows and a quota role such as hook-low): request them, see ${ROLES_DOC}`,
    };
  }
  if (err instanceof HookAuthError) {
    return {
      detail,
      fix:
        auth === 'token'
          ? 'HOOK_TOKEN was refused (expired or not a DEDL token): get a new one, or use HOOK_AUTH=desp'
          : 'the service refused the fresh DEDL token: check that the account has the Hook roles, see ' + ROLES_DOC,
    };
  }
  if (err instanceof HookResponseError) {
    return { detail, fix: `the answer has a shape this version cannot read; ${REPORT_IT}` };
  }
  return { detail, fix: `check ${urlVariable}; ${REPORT_IT}` };
}

/** Failures every service shares: unreachable, failing, rate limiting. */
function serviceFailure(err: unknown, urlVariable: string): Diagnosis | undefined {
  const detail = messageOf(err);
  if (err instanceof HookConnectionError) {
    return { detail, fix: `check the network (a proxy?) and ${urlVariable}; HOOK_BASE_URL is for the emulator only` };
  }
  if (err instanceof HookRateLimitError) {
    return { detail, fix: 'the service asked to slow down: run doctor again in a few minutes' };
  }
  if (err instanceof HookServerError) {
    return { detail, fix: 'the service itself failed: try again in a few minutes' };
  }
  if (!(err instanceof HookError) && err instanceof Error && /fetch failed|ECONN|ENOTFOUND|timeout/i.test(detail)) {
    return { detail, fix: `check the network (a proxy?) and ${urlVariable}` };
  }
  return undefined;
}

/** An S3 endpoint refused or failed a signed request. */
export function s3Failure(err: unknown, setName: string, endpoint: string, bucket?: string): Diagnosis {
  const stem = `DEDL_CREDENTIALS_${setName.toUpperCase().replace(/-/g, '_')}_`;
  const name = (err as { name?: string; Code?: string }).Code ?? (err as Error).name;
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const detail = `${name}${status ? ` (HTTP ${status})` : ''}: ${messageOf(err)}`;
  switch (name) {
    case 'InvalidAccessKeyId':
      return { detail, fix: `${endpoint} does not know this key: check ${stem}ACCESS_KEY_ID` };
    case 'SignatureDoesNotMatch':
      return { detail, fix: `check ${stem}SECRET_ACCESS_KEY (and ${stem}REGION)` };
    case 'NoSuchBucket':
      return { detail, fix: `no bucket "${bucket}" at ${endpoint}: check the bucket name, or create it` };
    case 'AccessDenied':
      return { detail, fix: `the key may not list "${bucket}": check the bucket's policy for this key` };
    case 'AuthorizationHeaderMalformed':
      return { detail, fix: `check ${stem}REGION (the endpoint expects another region)` };
  }
  if (status === undefined) return { detail, fix: `check ${stem}ENDPOINT (${endpoint}) and the network` };
  return { detail, fix: `check ${stem}ENDPOINT and the keys of the set` };
}

/** Temporal could not be reached or refused the client. */
export function temporalFailure(err: unknown, address: string, namespace: string): Diagnosis {
  const detail = messageOf(err);
  if (isGrpcServiceError(err)) {
    if (err.code === 5) {
      return {
        detail: `namespace "${namespace}" does not exist`,
        fix: `create it (temporal operator namespace create --namespace ${namespace}) or set TEMPORAL_NAMESPACE`,
      };
    }
    if (err.code === 16 || err.code === 7) {
      return { detail, fix: 'check TEMPORAL_API_KEY or the TEMPORAL_TLS_* certificate files' };
    }
  }
  return {
    detail: `cannot reach Temporal at ${address}: ${detail}`,
    fix: 'start one (`dedl-harvest dev`, or `temporal server start-dev`), or set TEMPORAL_ADDRESS (and TEMPORAL_TLS_*/TEMPORAL_API_KEY)',
  };
}
