/**
 * Builds, once per worker process, everything the activities share: the HTTP agent, the Hook
 * client with its token source, and the credential sets. `close()` releases them.
 */
import type { Dispatcher } from 'undici';
import { totp } from '../hook/totp';
import { type CredentialStore, loadCredentialStore } from '../config/credentials';
import type { WorkerConfig } from '../config/worker-config';
import { HookClient } from '../hook/client';
import { despTokenSource } from '../hook/desp-login';
import { dedlTokenUrl } from '../hook/endpoints';
import { type HttpObserver, createHttpAgent } from '../hook/http';
import { RetryAfterGate } from '../hook/retry-after-gate';
import { StacClient } from '../hook/stac';
import { type TokenSource, clientCredentialsTokenSource, staticTokenSource } from '../hook/tokens';
import type { ActivityDeps } from '../activities';
import { ConnectionBudget } from '../activities/connection-budget';

export interface WorkerDependencies extends ActivityDeps {
  /** The bearer source the Hook and STAC clients share (`dedl-harvest doctor` checks the login with it). */
  tokens: TokenSource;
  close(): Promise<void>;
}

export interface DependencyOptions {
  /** Told about every Hook and STAC request (the worker's metrics); nothing observes them when absent. */
  hookObserver?: HttpObserver;
  /** undici interceptors around every request of the Hook, STAC and login clients (`doctor --capture` records with one). */
  interceptors?: Dispatcher.DispatcherComposeInterceptor[];
}

export function buildDependencies(
  config: WorkerConfig,
  env: NodeJS.ProcessEnv = process.env,
  options: DependencyOptions = {},
): WorkerDependencies {
  const credentials: CredentialStore = loadCredentialStore(env);
  const agent = createHttpAgent({
    connectTimeoutMs: config.env.HOOK_CONNECT_TIMEOUT_MS,
    headersTimeoutMs: config.env.HOOK_HEADERS_TIMEOUT_MS,
    bodyTimeoutMs: config.env.HOOK_BODY_TIMEOUT_MS,
  });
  const dispatcher = options.interceptors?.length ? agent.compose(...options.interceptors) : agent;
  // One token source (one login in flight) and one Retry-After gate for every request of the
  // worker: the identity providers, the ODP API, the STAC catalogue and the product links alike.
  const gate = new RetryAfterGate();
  const tokens = hookTokens(config, dispatcher, gate);
  const observer = options.hookObserver;
  const hook = new HookClient({ endpoints: config.endpoints, dispatcher, tokens, gate, observer });
  const stac = new StacClient({ stacUrl: config.endpoints.stac, dispatcher, tokens, gate, observer });
  const connections = {
    perProduct: config.env.DEDL_CONNECTIONS_PER_PRODUCT,
    budget: new ConnectionBudget(config.env.DEDL_MAX_EXTRA_CONNECTIONS),
    rangeBytes: config.env.DEDL_RANGE_BYTES,
    minRangedBytes: config.env.DEDL_RANGED_MIN_BYTES,
  };
  return { hook, stac, credentials, tokens, connections, close: () => agent.close() };
}

function hookTokens(config: WorkerConfig, agent: Dispatcher, gate: RetryAfterGate): TokenSource {
  const { env, endpoints } = config;
  switch (env.HOOK_AUTH) {
    case 'token':
      return staticTokenSource(env.HOOK_TOKEN!);
    case 'client-credentials':
      return clientCredentialsTokenSource(
        agent,
        { tokenUrl: dedlTokenUrl(endpoints), clientId: env.DEDL_CLIENT_ID!, clientSecret: env.DEDL_CLIENT_SECRET! },
        { gate },
      );
    case 'desp': {
      const secret = env.DESP_OTP_SECRET;
      return despTokenSource(
        agent,
        {
          username: env.DESP_USERNAME!,
          password: env.DESP_PASSWORD!,
          otp: secret ? () => totp(secret, Date.now()) : undefined,
        },
        { endpoints, gate },
      );
    }
  }
}
