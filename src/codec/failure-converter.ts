/**
 * The failure converter used with payload encryption: a failure's message and stack trace move
 * into its `encodedAttributes` payload, which the codec then encrypts (history shows only
 * "Encoded failure"). The SDK loads this module by path (`failureConverterPath`) in the worker and
 * the client, and bundles it into the workflow code, so it stays free of Node built-ins.
 */
import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Text found in a workflow bundle that includes this module (see `assertBundleEncryptsFailures`):
 * a bundle built without it would write workflow failures in plain text.
 */
export const ENCRYPTED_FAILURES_MARKER = 'dedl-harvest:encrypted-failure-converter';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
