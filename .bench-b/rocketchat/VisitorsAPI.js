import DataLoader from 'dataloader';
import pLimit from 'p-limit';
import { badUserInput, missingCredentials } from '../errors.js';
import {} from './client.js';
/** Rocket.Chat ids are Meteor ids or ObjectIds; anything else is refused before it costs a call. */
export const VISITOR_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/**
 * One caller's view of Rocket.Chat visitors for one GraphQL operation. Built per request, so its
 * DataLoader cache can never serve one caller's visitor to another; within the operation it turns
 * repeated ids into one call and runs distinct ids in parallel (Rocket.Chat has no multi-id route).
 */
export class VisitorsAPI {
    #loader;
    #options;
    #upstreamCalls = 0;
    constructor(options) {
        this.#options = options;
        this.#loader = new DataLoader((ids) => this.#fetchAll(ids));
    }
    /** Calls this operation handed to the client (shared or cached ones included). */
    get upstreamCalls() {
        return this.#upstreamCalls;
    }
    /** One visitor; rejects with a catalogue error (NOT_FOUND, FORBIDDEN, …). */
    load(id) {
        const refused = this.#refuse(id);
        return refused ? Promise.reject(refused) : this.#loader.load(id);
    }
    /**
     * The visitors in order, with an Error in place of each that failed, so that each failure lands
     * at its own list index (GraphQL turns an Error list item into a null and a located error).
     * One promise for the whole list rather than one per item: graphql-jit drops trailing items
     * of a list of promises when they reject.
     */
    async loadMany(ids) {
        if (ids.length > this.#options.maxIds) {
            throw badUserInput(`visitors(ids) takes at most ${this.#options.maxIds} ids; got ${ids.length}.`);
        }
        return Promise.all(ids.map((id) => this.load(id).catch(toError)));
    }
    #refuse(id) {
        if (!VISITOR_ID_PATTERN.test(id)) {
            return badUserInput('A visitor id is 1 to 64 characters of A-Z, a-z, 0-9, "_" and "-".');
        }
        if ('refused' in this.#options.credentials)
            return missingCredentials(this.#options.credentials.refused);
        return undefined;
    }
    /** DataLoader's contract: one value or one Error per id, in the ids' order. */
    async #fetchAll(ids) {
        const { client, requestId, clientIp, cancellation, concurrency } = this.#options;
        const credentials = this.#options.credentials;
        const call = { credentials, requestId, clientIp, cancellation };
        this.#upstreamCalls += ids.length;
        this.#options.onBatch?.(ids.length);
        const fetch = (id) => client.getVisitor(id, call).catch(toError);
        // Most operations ask for one id; a limiter only earns its cost when the batch is wider than it.
        if (ids.length <= concurrency)
            return Promise.all(ids.map(fetch));
        const limit = pLimit(concurrency);
        return Promise.all(ids.map((id) => limit(() => fetch(id))));
    }
}
function toError(reason) {
    return reason instanceof Error ? reason : new Error(String(reason));
}
//# sourceMappingURL=VisitorsAPI.js.map