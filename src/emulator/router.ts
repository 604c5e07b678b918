/** Route table types shared by the route modules and the server. */
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type FaultScope } from './faults';

/** Request groups: the fault scopes, plus the admin API (never faulted). */
export type RouteScope = FaultScope | 'admin';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** Parsed request URL (on the emulator's base URL). */
  url: URL;
  /** Path with duplicate slashes collapsed (old destinelab builds `https://auth.destine.eu//realms/…`). */
  path: string;
  /** Milliseconds (emulator clock) when the request arrived. */
  receivedAt: number;
}

export interface Route {
  /** Allowed methods; a matching path with another method gets 405. */
  methods: readonly string[];
  pattern: RegExp;
  /** Route template for the admin report, e.g. `/odata/v1/BatchOrder({id})/Products`. */
  template: string | ((path: string) => string);
  scope: RouteScope;
  handle(ctx: RequestContext, match: RegExpExecArray): Promise<void> | void;
}
