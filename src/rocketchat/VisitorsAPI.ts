import DataLoader from 'dataloader';
import pLimit from 'p-limit';
import { badUserInput, missingCredentials, overBudget, responseTooLarge, type GatewayError } from '../errors.js';
import type { Cancellation } from './cancellation.js';
import { type CallOptions, type Credentials, type OperationScope, type RocketChatClient } from './client.js';
import type { WireVisitor } from './models.js';
import { wireSize } from './wireSize.js';
import type { CallBudget } from './callBudget.js';

/** Rocket.Chat ids are Meteor ids or ObjectIds; anything else is refused before it costs a call. */
export const VISITOR_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export interface VisitorsAPIOptions {
  client: RocketChatClient;
  /** The caller's credentials, or why they were refused (then nothing goes upstream). */
  credentials: Credentials | { refused: string };
  requestId?: string;
  /** The caller's address, sent upstream as X-Real-IP (Rocket.Chat's rate-limit key). */
  clientIp?: string;
  /** Cancelled when the caller disconnects. */
  cancellation?: Cancellation;
  /** The operation's scope, shared with its other loaders (CallOptions.operation). */
  operation?: OperationScope;
  /** Upstream calls one operation may have in flight at once. */
  concurrency: number;
  maxIds: number;
  /**
   * The operation's upstream calls (the second line behind the estimate in limits.ts) and the bytes
   * of upstream JSON its answer may carry (each visitor counted each time it is served), shared
   * with its other loaders.
   */
  budget: CallBudget;
  /** Told the size of each batch (for metrics). */
  onBatch?: (size: number) => void;
}

/**
 * One caller's view of Rocket.Chat visitors for one GraphQL operation. Built per request, so its
 * DataLoader cache can never serve one caller's visitor to another; within the operation it turns
 * repeated ids into one call and runs distinct ids in parallel (Rocket.Chat has no multi-id route).
 */
export class VisitorsAPI {
  readonly #loader: DataLoader<string, WireVisitor>;
  readonly #options: VisitorsAPIOptions;
  readonly #call: CallOptions | undefined;
  readonly #budget: CallBudget;

  constructor(options: VisitorsAPIOptions) {
    this.#options = options;
    const { credentials, requestId, clientIp, cancellation, operation } = options;
    this.#call = 'refused' in credentials ? undefined : { credentials, requestId, clientIp, cancellation, operation };
    this.#loader = new DataLoader((ids) => this.#fetchAll(ids));
    this.#budget = options.budget;
  }

  /**
   * Before execution, with the most calls the operation can cost: refuses it when Rocket.Chat's
   * bucket for this caller is known to hold fewer (RATE_LIMITED); each call then comes off the
   * bucket as it goes (rateLimits.ts).
   * A caller without credentials costs nothing, so is always admitted (and refused per field).
   */
  admit(calls: number): GatewayError | undefined {
    if (calls === 0 || !this.#call) return undefined;
    return this.#options.client.admit?.(calls, this.#call);
  }

  /** The most ids one list field may name (MAX_IDS). */
  get maxIds(): number {
    return this.#options.maxIds;
  }

  /** Calls this operation handed to the client, for every route (shared or cached ones included). */
  get upstreamCalls(): number {
    return this.#budget.used;
  }

  /** One visitor; rejects with a catalogue error (NOT_FOUND, FORBIDDEN, …). */
  load(id: string): Promise<WireVisitor> {
    const refused = this.#refuse(id);
    return refused ? Promise.reject(refused) : this.#loader.load(id).then(this.#served);
  }

  /**
   * Counts each visitor into the response as it is served, every time it is served: one upstream
   * call can stand for many copies in the answer (aliases, repeated ids), and the answer must stay
   * bounded in bytes however few calls it cost.
   */
  readonly #served = (visitor: WireVisitor): WireVisitor => {
    const bytes = wireSize(visitor);
    if (!this.#budget.spendBytes(bytes)) throw responseTooLarge(this.#budget.maxBytes);
    return visitor;
  };

  /**
   * The visitors in order, with an Error in place of each that failed, so that each failure lands
   * at its own list index (GraphQL turns an Error list item into a null and a located error).
   * One promise for the whole list rather than one per item: graphql-jit drops trailing items
   * of a list of promises when they reject.
   */
  async loadMany(ids: readonly string[]): Promise<(WireVisitor | Error)[]> {
    if (ids.length > this.#options.maxIds) {
      throw badUserInput(`visitors(ids) takes at most ${this.#options.maxIds} ids; got ${ids.length}.`);
    }
    return Promise.all(ids.map((id) => this.load(id).catch(toError)));
  }

  #refuse(id: string): Error | undefined {
    if (!VISITOR_ID_PATTERN.test(id)) {
      return badUserInput('A visitor id is 1 to 64 characters of A-Z, a-z, 0-9, "_" and "-".');
    }
    if ('refused' in this.#options.credentials) return missingCredentials(this.#options.credentials.refused);
    return undefined;
  }

  /** DataLoader's contract: one value or one Error per id, in the ids' order. */
  async #fetchAll(ids: readonly string[]): Promise<(WireVisitor | Error)[]> {
    const { client, concurrency } = this.#options;
    const maxUpstreamCalls = this.#budget.max;
    const call = this.#call!;
    // The estimate before execution should make this unreachable; if it was wrong, the ids past
    // the budget fail here instead of reaching Rocket.Chat.
    const allowed = this.#budget.take(ids.length);
    const within = ids.length <= allowed ? ids : ids.slice(0, allowed);
    this.#options.onBatch?.(within.length);
    const fetch = (id: string) => client.getVisitor(id, call).catch(toError);
    // Most operations ask for one id; a limiter only earns its cost when the batch is wider than it.
    let fetched: Promise<(WireVisitor | Error)[]>;
    if (within.length <= concurrency) fetched = Promise.all(within.map(fetch));
    else {
      const limit = pLimit(concurrency);
      fetched = Promise.all(within.map((id) => limit(() => fetch(id))));
    }
    if (within === ids) return fetched;
    const results = await fetched;
    for (let i = within.length; i < ids.length; i++) results.push(overBudget(maxUpstreamCalls, maxUpstreamCalls, { request: false }));
    return results;
  }
}

function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
