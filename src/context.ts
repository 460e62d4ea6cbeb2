import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { Context } from '@opentelemetry/api';
import type { Credentials, OperationScope, RocketChatClient } from './rocketchat/client.js';
import { traceIds } from './tracing.js';
import { VisitorsAPI } from './rocketchat/VisitorsAPI.js';
import { DepartmentsAPI } from './rocketchat/DepartmentsAPI.js';
import { UsersAPI } from './rocketchat/UsersAPI.js';
import { ChatsAPI } from './rocketchat/ChatsAPI.js';
import { SearchAPI } from './rocketchat/SearchAPI.js';
import { CallBudget } from './rocketchat/callBudget.js';
import type { Cancellation } from './rocketchat/cancellation.js';

/** What every resolver receives. Built anew for each GraphQL request; nothing in it outlives it. */
export interface GatewayContext {
  visitors: VisitorsAPI;
  departments: DepartmentsAPI;
  users: UsersAPI;
  chats: ChatsAPI;
  search: SearchAPI;
  requestId: string;
  /** What the layers under the loaders share about this operation (its trace, with tracing on). */
  readonly scope: OperationScope;
  log: Logger;
  /** Whether a line at `level` would be written, asked without making the per-request logger. */
  logs(level: 'info' | 'warn' | 'error'): boolean;
}

/** Process-wide parts the per-request context is built from. */
export interface ContextDeps {
  client: RocketChatClient;
  config: Pick<Config, 'maxIds' | 'maxUpstreamCalls' | 'maxResponseBytes'> & { upstream: Pick<Config['upstream'], 'concurrencyPerRequest'> };
  log: Logger;
  /** Told the size of each DataLoader batch. */
  onBatch?: (size: number) => void;
}

export interface IncomingCall {
  headers: IncomingHttpHeaders;
  requestId: string;
  /** The caller's address as the gateway sees it (see http/clientIp.ts). */
  clientIp?: string;
  /** Cancelled when the caller disconnects. */
  cancellation?: Cancellation;
  /** With tracing on: the HTTP request's trace context. */
  trace?: Context;
}

/** Visible ASCII only: no control characters (header injection), no spaces, nothing over 512. */
const CREDENTIAL_PATTERN = /^[\x21-\x7e]{1,512}$/;

/** Reads the caller's credentials once; a refusal is kept and answered per field, without an upstream call. */
export function readCredentials(headers: IncomingHttpHeaders): Credentials | { refused: string } {
  const authToken = headers['x-auth-token'];
  const userId = headers['x-user-id'];
  if (authToken === undefined || userId === undefined || authToken === '' || userId === '') {
    return { refused: 'missing X-Auth-Token or X-User-Id' };
  }
  if (typeof authToken !== 'string' || typeof userId !== 'string') {
    return { refused: 'X-Auth-Token and X-User-Id must be sent once each' };
  }
  if (!CREDENTIAL_PATTERN.test(authToken) || !CREDENTIAL_PATTERN.test(userId)) {
    return { refused: 'X-Auth-Token and X-User-Id must be 1 to 512 visible ASCII characters' };
  }
  return { authToken, userId };
}

export function createContext(deps: ContextDeps, call: IncomingCall): GatewayContext {
  return new RequestContext(deps, call);
}

/**
 * A class, not an object literal: built per request as a literal with its own `log` getter, the
 * context made V8 promote about 300 KB out of the young generation at every scavenge under load,
 * with scavenges twice as long as Mercurius's (`node bench/gc.mjs`). As a prototype getter it
 * promotes next to nothing.
 */
class RequestContext implements GatewayContext {
  readonly visitors: VisitorsAPI;
  readonly requestId: string;
  // TypeScript-private, not `#`: Apollo Server shallow-clones the context (prototype kept, own
  // properties copied), and a clone carries no `#` fields.
  private readonly deps: ContextDeps;
  private readonly call: IncomingCall;
  private readonly credentials: Credentials | { refused: string };
  private readonly budget: CallBudget;
  readonly scope: OperationScope;
  private lazyLog: Logger | undefined;
  // Apollo's clone of the context copies this holder, not its contents, so the loader made on first
  // use through either object is the operation's one loader.
  private readonly lazy: { departments?: DepartmentsAPI; users?: UsersAPI; chats?: ChatsAPI; search?: SearchAPI } = {};

  constructor(deps: ContextDeps, call: IncomingCall) {
    this.deps = deps;
    this.call = call;
    this.requestId = call.requestId;
    this.credentials = readCredentials(call.headers);
    this.budget = new CallBudget(deps.config.maxUpstreamCalls, deps.config.maxResponseBytes);
    this.scope = { trace: call.trace };
    this.visitors = new VisitorsAPI({
      client: deps.client,
      credentials: this.credentials,
      requestId: call.requestId,
      clientIp: call.clientIp,
      cancellation: call.cancellation,
      operation: this.scope,
      concurrency: deps.config.upstream.concurrencyPerRequest,
      maxIds: deps.config.maxIds,
      budget: this.budget,
      onBatch: deps.onBatch,
    });
  }

  /** Made on first use: most operations ask for no department. */
  get departments(): DepartmentsAPI {
    return (this.lazy.departments ??= new DepartmentsAPI(this.loaderOptions()));
  }

  /** Made on first use, as departments. */
  get users(): UsersAPI {
    return (this.lazy.users ??= new UsersAPI(this.loaderOptions()));
  }

  /** Made on first use, as departments. */
  get chats(): ChatsAPI {
    return (this.lazy.chats ??= new ChatsAPI(this.loaderOptions()));
  }

  /** Made on first use, as departments. */
  get search(): SearchAPI {
    return (this.lazy.search ??= new SearchAPI(this.loaderOptions()));
  }

  private loaderOptions() {
    const { requestId, clientIp, cancellation } = this.call;
    return { client: this.deps.client, credentials: this.credentials, call: { requestId, clientIp, cancellation, operation: this.scope }, budget: this.budget };
  }

  /** Made on first use: most operations log one line, and a child logger per request adds up. */
  get log(): Logger {
    return (this.lazyLog ??= this.deps.log.child({ requestId: this.requestId, ...traceIds(this.scope.trace) }));
  }

  logs(level: 'info' | 'warn' | 'error'): boolean {
    return this.deps.log.isLevelEnabled(level);
  }
}
