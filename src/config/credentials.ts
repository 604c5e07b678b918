/**
 * Credential sets: requests name them (`"credentials": "islet"`), the worker holds them. Each set
 * comes from environment variables `DEDL_CREDENTIALS_<NAME>_<FIELD>`; the set `desp` also falls
 * back to DESP_USERNAME / DESP_PASSWORD, the worker's own login. Nothing here ever leaves the worker.
 */
import { z } from 'zod';

export interface DespCredentialSet {
  username: string;
  password: string;
}

export interface S3CredentialSet {
  accessKeyId: string;
  secretAccessKey: string;
  /** Where to reach the bucket from the worker (defaults to the request's endpoint). */
  endpoint?: string;
  region: string;
}

export interface ClientCredentialSet {
  clientId: string;
  clientSecret: string;
}

export interface CredentialSet {
  name: string;
  desp?: DespCredentialSet;
  s3?: S3CredentialSet;
  client?: ClientCredentialSet;
}

export type CredentialKind = 'desp' | 's3' | 'client';

const PREFIX = 'DEDL_CREDENTIALS_';
const FIELDS = {
  USERNAME: 'username',
  PASSWORD: 'password',
  ACCESS_KEY_ID: 'accessKeyId',
  SECRET_ACCESS_KEY: 'secretAccessKey',
  ENDPOINT: 'endpoint',
  REGION: 'region',
  CLIENT_ID: 'clientId',
  CLIENT_SECRET: 'clientSecret',
} as const;

const fieldsSchema = z.object({
  username: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  accessKeyId: z.string().min(1).optional(),
  secretAccessKey: z.string().min(1).optional(),
  endpoint: z.url().optional(),
  region: z.string().min(1).optional(),
  clientId: z.string().min(1).optional(),
  clientSecret: z.string().min(1).optional(),
});

export class CredentialStore {
  constructor(private readonly sets: ReadonlyMap<string, CredentialSet>) {}

  names(): string[] {
    return [...this.sets.keys()].sort();
  }

  /** The set, or a message saying what is missing (for validation errors that name the field). */
  check(name: string, kind: CredentialKind): string | undefined {
    const set = this.sets.get(name);
    if (!set) return `no credential set named "${name}" is configured on the worker (${hint(name, kind)})`;
    if (!set[kind]) return `credential set "${name}" has no ${kind} credentials (${hint(name, kind)})`;
    return undefined;
  }

  desp(name: string): DespCredentialSet {
    return this.require(name, 'desp');
  }

  s3(name: string): S3CredentialSet {
    return this.require(name, 's3');
  }

  client(name: string): ClientCredentialSet {
    return this.require(name, 'client');
  }

  /** Every secret value, so logs and errors can be scrubbed of them. */
  secrets(): string[] {
    return [...this.sets.values()].flatMap((s) =>
      [s.desp?.password, s.s3?.secretAccessKey, s.s3?.accessKeyId, s.client?.clientSecret].filter(
        (v): v is string => !!v,
      ),
    );
  }

  private require<K extends CredentialKind>(name: string, kind: K): NonNullable<CredentialSet[K]> {
    const problem = this.check(name, kind);
    if (problem) throw new Error(problem);
    return this.sets.get(name)![kind]!;
  }
}

function hint(name: string, kind: CredentialKind): string {
  const stem = `${PREFIX}${name.toUpperCase().replace(/-/g, '_')}_`;
  const needed = {
    desp: ['USERNAME', 'PASSWORD'],
    s3: ['ACCESS_KEY_ID', 'SECRET_ACCESS_KEY'],
    client: ['CLIENT_ID', 'CLIENT_SECRET'],
  }[kind];
  return `set ${needed.map((f) => stem + f).join(' and ')}`;
}

/** Reads every `DEDL_CREDENTIALS_<NAME>_<FIELD>` variable; throws one error listing every problem. */
export function loadCredentialStore(env: NodeJS.ProcessEnv = process.env): CredentialStore {
  const raw = new Map<string, Record<string, string>>();
  const fieldNames = Object.keys(FIELDS).sort((a, b) => b.length - a.length);
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(PREFIX) || value === undefined || value === '') continue;
    const rest = key.slice(PREFIX.length);
    const field = fieldNames.find((f) => rest.endsWith(`_${f}`));
    if (!field) continue;
    const name = rest
      .slice(0, -field.length - 1)
      .toLowerCase()
      .replace(/_/g, '-');
    const entry = raw.get(name) ?? {};
    entry[FIELDS[field as keyof typeof FIELDS]] = value;
    raw.set(name, entry);
  }
  if (!raw.has('desp') && env.DESP_USERNAME && env.DESP_PASSWORD) {
    raw.set('desp', { username: env.DESP_USERNAME, password: env.DESP_PASSWORD });
  }

  const problems: string[] = [];
  const sets = new Map<string, CredentialSet>();
  for (const [name, fields] of raw) {
    const parsed = fieldsSchema.safeParse(fields);
    if (!parsed.success) {
      problems.push(
        ...parsed.error.issues.map((i) => `${PREFIX}${name.toUpperCase()}_${String(i.path[0])}: ${i.message}`),
      );
      continue;
    }
    const f = parsed.data;
    const set: CredentialSet = { name };
    if (f.username && f.password) set.desp = { username: f.username, password: f.password };
    if (f.accessKeyId && f.secretAccessKey) {
      set.s3 = {
        accessKeyId: f.accessKeyId,
        secretAccessKey: f.secretAccessKey,
        endpoint: f.endpoint,
        region: f.region ?? 'us-east-1',
      };
    }
    if (f.clientId && f.clientSecret) set.client = { clientId: f.clientId, clientSecret: f.clientSecret };
    if (!set.desp && !set.s3 && !set.client)
      problems.push(`credential set "${name}" is incomplete (${Object.keys(fields).join(', ')} given)`);
    sets.set(name, set);
  }
  if (problems.length > 0) throw new Error(`Invalid credential configuration:\n- ${problems.join('\n- ')}`);
  return new CredentialStore(sets);
}
