import { LRUCache } from 'lru-cache';
import Negotiator from 'negotiator';

/**
 * The media types Apollo Server picks among for a single result, in its order of preference
 * (`chooseContentTypeForSingleResultResponse` in its ApolloServer.ts, not exported).
 */
export const SINGLE_RESULT_MEDIA_TYPES: readonly string[] = [
  'application/json; charset=utf-8',
  'application/graphql-response+json; charset=utf-8',
  'application/json; callbackSpec=1.0; charset=utf-8',
];

/** Accept values longer than this are negotiated every time, so the memo stays a few KiB. */
const MAX_REMEMBERED_ACCEPT = 256;

/**
 * The response's media type for an `Accept` header, negotiated by the same library and with the
 * same choices as Apollo Server, once per distinct header value. Apollo negotiates anew for every
 * operation, which cost about 9 KiB of garbage and 10 µs per request under Apollo Client's
 * `Accept` (`node bench/profile.mjs`); clients send one value for their whole life, so the
 * gateway's plugin sets the type from this memo and Apollo then skips its own negotiation.
 * Undefined when nothing is acceptable: Apollo then answers its own 406.
 */
export class ResponseMediaTypes {
  readonly #known = new LRUCache<string, string | false>({ max: 256 });

  /** Whether Apollo can answer this `Accept` at all (no header: its default, so yes). */
  acceptable(accept: string | undefined): boolean {
    return accept === undefined || this.choose(accept) !== undefined;
  }

  choose(accept: string | undefined): string | undefined {
    if (accept === undefined) return undefined; // Apollo's own default, chosen without negotiating
    const known = this.#known.get(accept);
    if (known !== undefined) return known || undefined;
    const chosen = new Negotiator({ headers: { accept } }).mediaType(SINGLE_RESULT_MEDIA_TYPES);
    if (accept.length <= MAX_REMEMBERED_ACCEPT) this.#known.set(accept, chosen ?? false);
    return chosen;
  }
}
