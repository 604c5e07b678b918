/** Runs before each test file: quiet, predictable logging for the libraries under test. */
import { DefaultLogger, Runtime } from '@temporalio/worker';

// Versions are pinned for Node 20 (docs/infra.md); the SDK's reminder about Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// Worker state changes at INFO drown the test output; warnings and errors still show.
Runtime.install({ logger: new DefaultLogger('WARN') });
