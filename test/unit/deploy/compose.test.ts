/**
 * docker-compose.yml and the Dockerfile, checked without a Docker engine (none runs here): the
 * compose file is parsed, its `${VAR:-default}` interpolation resolved as Compose does, and the
 * worker's resulting environment is put through the worker's own configuration loaders. The
 * service graph (addresses, dependencies, health checks, volumes, scaling) is checked against
 * the services the file declares.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadCredentialStore } from '../../../src/config/credentials';
import { loadWorkerConfig } from '../../../src/config/worker-config';
import { searchAttributeFlags } from '../../../src/devstack/stack';
import { CLUSTER_DEPLOY_DIR } from '../../../src/devstack/temporal-cluster';
import { TEMPORAL_SERVER } from '../../../src/devstack/tools';
import { SEARCH_ATTRIBUTE_KEYS } from '../../../src/shared/search-attributes';

const ROOT = path.join(__dirname, '..', '..', '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  profiles?: string[];
  container_name?: string;
  command?: string | string[];
  entrypoint?: string[];
  configs?: { source: string; target: string }[];
  environment?: Record<string, string | number | boolean | null>;
  depends_on?: Record<string, { condition: string; required?: boolean }>;
  healthcheck?: { test: string | string[] };
  ports?: string[];
  volumes?: string[];
  restart?: string;
  deploy?: unknown;
}
interface Compose {
  services: Record<string, Service>;
  configs?: Record<string, { file: string }>;
  volumes?: Record<string, unknown>;
}

const compose = parse(read('docker-compose.yml')) as Compose;
const services = compose.services;

/**
 * Compose's interpolation: `${VAR}`, `${VAR:-default}` (default when unset or empty),
 * `${VAR-default}` (default when unset), and `$$` for a literal `$`.
 */
function interpolate(text: string, vars: Record<string, string | undefined>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}/g, (match, name, op, fallback) => {
    if (match === '$$') return '$';
    const value = vars[name as string];
    if (op === ':-') return value ? value : (fallback as string);
    if (op === '-') return value !== undefined ? value : (fallback as string);
    return value ?? '';
  });
}

/** A service's environment as the container sees it, with `vars` as the host's environment. */
function environmentOf(name: string, vars: Record<string, string | undefined> = {}): Record<string, string> {
  const env = services[name]?.environment ?? {};
  return Object.fromEntries(
    Object.entries(env).map(([key, value]) => [key, interpolate(value === null ? '' : String(value), vars)]),
  );
}

function hostAndPort(address: string): { host: string; port: number } {
  const url = new URL(address.includes('://') ? address : `tcp://${address}`);
  return { host: url.hostname, port: Number(url.port) };
}

/** Container ports a service publishes or listens on, from `ports` ("host:container"). */
function containerPorts(name: string): number[] {
  return (services[name]?.ports ?? []).map((p) => Number(interpolate(p, {}).split(':').pop()));
}

/** One-shot jobs: run once per `up`, never restarted, awaited by `service_completed_successfully`. */
const oneShot = (name: string) => services[name]?.restart === 'no';

function flagValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

describe('docker-compose.yml', () => {
  it('runs Temporal on PostgreSQL, its UI, an S3 server with a bucket, the worker and the emulator', () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['postgresql', 'temporal', 'temporal-ui', 's3', 's3-init', 'worker', 'emulator']),
    );
    expect(services.temporal?.image).toMatch(/^temporalio\/server:/);
    expect(environmentOf('temporal').SQL_HOST).toBe('postgresql');
    expect(services['temporal-ui']?.image).toMatch(/^temporalio\/ui:/);
    expect(services.emulator?.profiles).toEqual(['emulator']);
    expect(services.worker?.profiles).toBeUndefined();
  });

  it('gives the worker an environment the worker accepts, pointing at the compose services', () => {
    const env = environmentOf('worker');
    const config = loadWorkerConfig(env);

    const temporal = hostAndPort(config.env.TEMPORAL_ADDRESS);
    expect(temporal.host).toBe('temporal');
    expect(containerPorts('temporal')).toContain(temporal.port);

    const hook = hostAndPort(config.env.HOOK_BASE_URL!);
    expect(hook.host).toBe('emulator');
    const emulatorArgs = services.emulator!.command as string[];
    expect(Number(flagValue(emulatorArgs, '--port'))).toBe(hook.port);
    expect(flagValue(emulatorArgs, '--host')).toBe('0.0.0.0');
    // Links and login forms the emulator writes must name the address the worker uses.
    expect(JSON.parse(flagValue(emulatorArgs, '--options')!)).toMatchObject({
      publicUrl: config.env.HOOK_BASE_URL,
    });
    expect(config.endpoints.odata.startsWith(config.env.HOOK_BASE_URL!)).toBe(true);

    // The S3 credential set reaches the s3 service with the keys that service was started with.
    const local = loadCredentialStore(env).s3('local');
    const s3 = environmentOf('s3');
    const endpoint = hostAndPort(local.endpoint!);
    expect(endpoint.host).toBe('s3');
    expect(endpoint.port).toBe(hostAndPort(`x${s3.VGW_PORT}`).port);
    expect(containerPorts('s3')).toContain(endpoint.port);
    expect([local.accessKeyId, local.secretAccessKey]).toEqual([s3.ROOT_ACCESS_KEY_ID, s3.ROOT_SECRET_ACCESS_KEY]);

    const init = environmentOf('s3-init');
    expect(hostAndPort(init.S3_ENDPOINT!)).toEqual(endpoint);
    expect([init.AWS_ACCESS_KEY_ID, init.AWS_SECRET_ACCESS_KEY]).toEqual([local.accessKeyId, local.secretAccessKey]);
    // The bucket the examples name (examples/harvest-private.json), with the set they name.
    const example = JSON.parse(read('examples/harvest-private.json')) as {
      output: { target: string; credentials: string };
    };
    expect(init.BUCKET).toBe(new URL(example.output.target).hostname);
    expect(loadCredentialStore(env).s3(example.output.credentials)).toEqual(local);
  });

  it('lets .env settings through: the real Hook, another account, other keys', () => {
    const env = environmentOf('worker', {
      HOOK_BASE_URL: '',
      DESP_USERNAME: 'someone',
      DESP_PASSWORD: 'secret',
      S3_ACCESS_KEY_ID: 'AK',
      S3_SECRET_ACCESS_KEY: 'SK',
      DEDL_MAX_CONCURRENT_ACTIVITIES: '50',
    });
    const config = loadWorkerConfig(env);
    expect(config.env.HOOK_BASE_URL).toBeUndefined();
    expect(config.endpoints.odata).toBe(config.env.HOOK_ODATA_URL);
    expect(config.endpoints.odata).toMatch(/^https:\/\/odp\.data\.destination-earth\.eu\//);
    expect(config.env.DESP_USERNAME).toBe('someone');
    expect(config.env.DEDL_MAX_CONCURRENT_ACTIVITIES).toBe(50);
    expect(loadCredentialStore(env).s3('local').accessKeyId).toBe('AK');
    expect(environmentOf('s3', { S3_ACCESS_KEY_ID: 'AK' }).ROOT_ACCESS_KEY_ID).toBe('AK');
  });

  it('registers every search attribute the workflows set, as the native cluster does', () => {
    for (const key of SEARCH_ATTRIBUTE_KEYS) expect(key.type).toBe('KEYWORD');
    const pairs = Object.entries(searchAttributeFlags()).map(([name, type]) => `${name}=${type}`);
    expect(environmentOf('temporal-setup').SEARCH_ATTRIBUTES!.split(' ')).toEqual(pairs);
    expect(services['temporal-setup']!.image).toMatch(/^temporalio\/admin-tools:/);
    expect(environmentOf('temporal-setup').TEMPORAL_ADDRESS).toBe(environmentOf('worker').TEMPORAL_ADDRESS);
    expect(environmentOf('temporal-setup').NAMESPACE).toBe(environmentOf('worker').TEMPORAL_NAMESPACE);
  });

  it('sets Temporal up with the files the native cluster stack runs: one config, two scripts', () => {
    // Every config source is a file of deploy/temporal, the folder src/devstack/temporal-cluster.ts uses.
    const sources = Object.fromEntries(
      Object.entries(compose.configs ?? {}).map(([name, c]) => [name, path.resolve(ROOT, c.file)]),
    );
    for (const file of Object.values(sources)) expect(path.dirname(file)).toBe(CLUSTER_DEPLOY_DIR);
    const mounted = (service: string) =>
      Object.fromEntries((services[service]!.configs ?? []).map((c) => [c.target, sources[c.source]]));
    const runs = (service: string) => {
      const [first, ...rest] = services[service]!.entrypoint!;
      const script = first === '/bin/sh' ? rest[0]! : rest[rest.indexOf('--config-file') + 1]!;
      return path.basename(mounted(service)[script]!);
    };
    expect(runs('temporal-schema')).toBe('setup-schema.sh');
    expect(runs('temporal-setup')).toBe('setup-namespace.sh');
    expect(runs('temporal')).toBe('config.yaml');
    expect(services.temporal!.entrypoint!.slice(0, 1)).toEqual(['temporal-server']);
    // The schema job reaches the database the server reads, with the same account.
    const { SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD } = environmentOf('temporal');
    expect(environmentOf('temporal-schema')).toMatchObject({ SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD });
    expect(environmentOf('postgresql')).toMatchObject({ POSTGRES_USER: SQL_USER, POSTGRES_PASSWORD: SQL_PASSWORD });
    // Images pinned to the server version the native cluster builds (tools.ts TEMPORAL_SERVER).
    for (const service of ['temporal', 'temporal-schema', 'temporal-setup']) {
      expect(services[service]!.image!.split(':')[1]).toBe(TEMPORAL_SERVER.version.replace(/^v/, ''));
    }
  });

  it('only depends on services it declares, waiting for health or completion', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect([name, dependency, dependency in services]).toEqual([name, dependency, true]);
        const expected = oneShot(dependency) ? 'service_completed_successfully' : 'service_healthy';
        expect([name, dependency, condition]).toEqual([name, dependency, expected]);
      }
    }
    // The emulator is optional: without its profile the worker still starts (against the real Hook).
    expect(services.worker!.depends_on!.emulator).toEqual({ condition: 'service_healthy', required: false });
    expect(Object.keys(services.worker!.depends_on!)).toEqual(
      expect.arrayContaining(['temporal-setup', 's3-init', 'emulator']),
    );
  });

  it('has a health check on every long-running service; one-shot jobs are awaited instead', () => {
    for (const [name, service] of Object.entries(services)) {
      const awaited = Object.values(services).some(
        (s) => s.depends_on?.[name]?.condition === 'service_completed_successfully',
      );
      const seen = oneShot(name)
        ? { name, awaited }
        : { name, healthcheck: service.healthcheck?.test !== undefined, restart: service.restart };
      const expected = oneShot(name) ? { name, awaited: true } : { name, healthcheck: true, restart: 'unless-stopped' };
      expect(seen).toEqual(expected);
    }
    // The worker's check is its metrics endpoint, which the worker serves where compose says.
    expect(JSON.stringify(services.worker!.healthcheck!.test)).toContain(
      `:${hostAndPort(environmentOf('worker').DEDL_METRICS_ADDRESS!).port}/metrics`,
    );
  });

  it('keeps state in named volumes, all declared', () => {
    const declared = Object.keys(compose.volumes ?? {});
    const used = new Set<string>();
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        // No bind mounts: the stack runs from this file alone.
        expect([name, source]).toEqual([name, expect.stringMatching(/^[a-z][a-z0-9-]*$/)]);
        used.add(source);
      }
    }
    expect([...used].sort()).toEqual([...declared].sort());
    for (const name of ['postgresql', 's3', 'worker', 'emulator']) {
      expect([name, services[name]!.volumes?.length]).toEqual([name, expect.any(Number)]);
    }
  });

  it('can scale the worker: no fixed name, no host port, no fixed replica count', () => {
    const worker = services.worker!;
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
    expect(worker.deploy).toBeUndefined();
    expect(worker.build).toBe('.');
    for (const [name, service] of Object.entries(services)) {
      expect([name, service.container_name]).toEqual([name, undefined]);
    }
  });

  it('pins every image it pulls', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.build !== undefined) continue;
      expect([name, service.image]).toEqual([
        name,
        expect.stringMatching(/^[a-z0-9./-]+:v?\d+(\.\d+)+(-[a-z0-9.-]+)?$/),
      ]);
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages = instructions.join('\n').split(/^(?=FROM )/m);
  const runtime = stages[stages.length - 1]!;

  it('builds on the pinned glibc Node 24 image in every stage, never alpine (Temporal has no musl build)', () => {
    const bases = instructions.filter((l) => l.startsWith('FROM ')).map((l) => l.split(/\s+/)[1]!);
    expect(bases.length).toBeGreaterThanOrEqual(2);
    // The exact Node 24 the suite runs on in CI (scripts/with-node.cjs), so the image runs what was tested.
    const tested = /^ {2}24: \{\n {4}version: '(\d+\.\d+\.\d+)',$/m.exec(read('scripts/with-node.cjs'))?.[1];
    expect(tested).toMatch(/^24\./);
    for (const base of bases) {
      expect(base).toBe(`node:${tested}-bookworm-slim`);
      expect(base).not.toMatch(/alpine/);
    }
  });

  it('ships runtime dependencies only and runs as a non-root user', () => {
    expect(runtime).toMatch(/^RUN npm ci --omit=dev\b/m);
    const users = runtime.split('\n').filter((l) => l.startsWith('USER '));
    expect(users.length).toBeGreaterThan(0);
    expect(users[users.length - 1]).not.toMatch(/^USER (root|0)(:|$)/);
    expect(runtime).toMatch(/^CMD \["node", ?"bin\/dedl-harvest\.js", ?"worker"\]$/m);
  });

  it('prebundles the workflows where the worker loads them from', () => {
    const bundle = environmentOf('worker').DEDL_WORKFLOW_BUNDLE!;
    const file = path.posix.relative('/app', bundle);
    expect(runtime).toMatch(/^WORKDIR \/app$/m);
    expect(dockerfile).toContain(`npx tsx scripts/bundle-workflows.ts ${file}`);
    expect(dockerfile).toContain('scripts/bundle-workflows.ts dist/workflow-bundle-encrypted.js --encrypted-failures');
    expect(runtime).toContain('COPY --from=build /app/dist ./dist');
    expect(file.startsWith('dist/')).toBe(true);
  });

  it('keeps secrets and local state out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['.env', 'node_modules', 'dist', '.tools', '.git']));
  });
});
