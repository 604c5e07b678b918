/** The emulator's users (DESP accounts) and DEDL service accounts, and the quotas their roles grant. */
import { createHash } from 'node:crypto';
import { type Account, type ServiceAccount, QUOTA_ROLES } from './options';

/** Who a token speaks for. */
export interface Principal {
  /** Stable subject id (a UUID derived from the user name, so it survives restarts). */
  sub: string;
  username: string;
  email: string;
  roles: string[];
  /** Per-account quota overrides. */
  maxParallelItems?: number | undefined;
  monthlyOrders?: number | undefined;
}

export interface Quota {
  /** Quota role in force (the most generous one held). */
  role: keyof typeof QUOTA_ROLES;
  maxParallelItems: number;
  monthlyOrders: number;
}

export function subjectOf(kind: 'user' | 'service', name: string): string {
  const h = createHash('sha1').update(`${kind}:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export class AccountDirectory {
  private readonly users: Account[];
  private readonly bySubject = new Map<string, Principal>();

  constructor(
    users: Account[],
    private readonly services: ServiceAccount[],
  ) {
    this.users = users;
    for (const u of users) this.bySubject.set(subjectOf('user', u.username), this.userPrincipal(u));
    for (const s of services) this.bySubject.set(subjectOf('service', s.clientId), this.servicePrincipal(s));
  }

  /** The account whose user name or e-mail is `login` (case-insensitive), if any. */
  findUser(login: string): Account | undefined {
    const needle = login.trim().toLowerCase();
    return this.users.find((u) => u.username.toLowerCase() === needle || emailOf(u).toLowerCase() === needle);
  }

  /** The account if `login`/`password` match one. */
  checkPassword(login: string, password: string): Account | undefined {
    const user = this.findUser(login);
    return user && user.password === password ? user : undefined;
  }

  checkService(clientId: string, clientSecret: string): ServiceAccount | undefined {
    return this.services.find((s) => s.clientId === clientId && s.clientSecret === clientSecret);
  }

  isServiceClient(clientId: string): boolean {
    return this.services.some((s) => s.clientId === clientId);
  }

  userPrincipal(u: Account): Principal {
    return {
      sub: subjectOf('user', u.username),
      username: u.username,
      email: emailOf(u),
      roles: [...u.roles],
      maxParallelItems: u.maxParallelItems,
      monthlyOrders: u.monthlyOrders,
    };
  }

  servicePrincipal(s: ServiceAccount): Principal {
    const username = `service-account-${s.clientId}`;
    return {
      sub: subjectOf('service', s.clientId),
      username,
      email: `${username}@placeholder.org`,
      roles: [...s.roles],
      maxParallelItems: s.maxParallelItems,
      monthlyOrders: s.monthlyOrders,
    };
  }

  principal(sub: string): Principal | undefined {
    return this.bySubject.get(sub);
  }
}

function emailOf(u: Account): string {
  return u.email ?? `${u.username}@example.org`;
}

/** The quota granted by `roles` (the most generous quota role wins), with account overrides; undefined without one. */
export function quotaOf(p: Pick<Principal, 'roles' | 'maxParallelItems' | 'monthlyOrders'>): Quota | undefined {
  const order = ['hook-high', 'hook-medium', 'hook-low'] as const;
  const role = order.find((r) => p.roles.includes(r));
  if (!role) return undefined;
  return {
    role,
    maxParallelItems: p.maxParallelItems ?? QUOTA_ROLES[role].maxParallelItems,
    monthlyOrders: p.monthlyOrders ?? QUOTA_ROLES[role].monthlyOrders,
  };
}
