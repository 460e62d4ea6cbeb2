import DataLoader from 'dataloader';
import type { FieldNode, FragmentDefinitionNode, SelectionSetNode } from 'graphql';
import { badUserInput, GatewayError, missingCredentials } from '../errors.js';
import { eachWithinBudget } from './callBudget.js';
import type { CallOptions, LoaderOptions } from './client.js';
import type { WireSearchHit, WireVisitor } from './models.js';
import { edgesOf, pageInfoOf, pageRequest, type Edge, type Page } from './paging.js';
import type { VisitorsAPI } from './VisitorsAPI.js';

const MAX_TERM_LENGTH = 200;
const HIT = 'visitor';

/** A page of hits as a connection's data. */
export type SearchPage = Page<WireSearchHit>;
export type SearchEdge = Edge<WireSearchHit>;

/**
 * One caller's visitor searches (`visitors.search`) for one operation: one call per term and page.
 * A hit carries seven fields only; `node` answers a hit as it is when the query asks for nothing
 * else of it, and otherwise loads the whole visitor through the operation's visitor loader, so no
 * field is ever answered as a silent null.
 */
export class SearchAPI {
  readonly #loader: DataLoader<string, SearchPage>;
  readonly #options: LoaderOptions;
  readonly #call: CallOptions | undefined;

  constructor(options: LoaderOptions) {
    this.#options = options;
    const { credentials, call } = options;
    this.#call = 'refused' in credentials ? undefined : { ...call, credentials };
    this.#loader = new DataLoader((keys) => this.#fetchAll(keys));
  }

  page(term: string, first: number | null | undefined, after: string | null | undefined): Promise<SearchPage> {
    const request = pageRequest('searchVisitors', HIT, first, after);
    if (request instanceof GatewayError) return Promise.reject(request);
    const { offset, count } = request;
    const trimmed = term.trim();
    if (trimmed.length === 0 || trimmed.length > MAX_TERM_LENGTH) {
      return Promise.reject(badUserInput(`searchVisitors(term) takes 1 to ${MAX_TERM_LENGTH} characters.`));
    }
    const { credentials } = this.#options;
    if ('refused' in credentials) return Promise.reject(missingCredentials(credentials.refused));
    // `first: 0` still asks for one hit: the total is what a console wants then.
    const page = this.#loader.load(`${offset}\n${Math.max(count, 1)}\n${trimmed}`);
    return count === 0 ? page.then((p) => ({ ...p, items: [] })) : page;
  }

  #fetchAll(keys: readonly string[]): Promise<(SearchPage | Error)[]> {
    const { client, budget } = this.#options;
    const parts = (key: string) => {
      const [offset, count, ...term] = key.split('\n');
      return { offset: Number(offset), count: Number(count), term: term.join('\n') };
    };
    return eachWithinBudget(
      keys,
      budget,
      (key) => {
        const { offset, count, term } = parts(key);
        return client.searchVisitors(term, { offset, count }, this.#call!);
      },
      (answer, key) => ({ items: answer.visitors, offset: parts(key).offset, total: answer.total }),
    );
  }
}

export const searchEdges = (page: SearchPage): SearchEdge[] => edgesOf(HIT, page);
export const searchPageInfo = (page: SearchPage) => pageInfoOf(HIT, page);

/** The Visitor fields a search hit can answer itself (from its seven wire fields). */
const HIT_FIELDS = new Set(['__typename', 'id', 'username', 'name', 'phones', 'customFields', 'emails', 'lastChat']);

/**
 * The hit itself when the selection asks only for what a hit carries; else the whole visitor,
 * from the operation's loader (one visitors.info call per distinct visitor, shared with the rest).
 */
export function searchNode(
  hit: WireSearchHit,
  selection: readonly FieldNode[],
  fragments: Record<string, FragmentDefinitionNode>,
  visitors: VisitorsAPI,
): WireVisitor | Promise<WireVisitor> {
  return selection.every((field) => !field.selectionSet || onlyHitFields(field.selectionSet, fragments, new Set())) ? hit : visitors.load(hit._id);
}

function onlyHitFields(set: SelectionSetNode, fragments: Record<string, FragmentDefinitionNode>, seen: Set<string>): boolean {
  for (const sel of set.selections) {
    if (sel.kind === 'Field') {
      if (!HIT_FIELDS.has(sel.name.value)) return false;
    } else if (sel.kind === 'InlineFragment') {
      if (!onlyHitFields(sel.selectionSet, fragments, seen)) return false;
    } else if (!seen.has(sel.name.value)) {
      seen.add(sel.name.value);
      const fragment = fragments[sel.name.value];
      if (fragment && !onlyHitFields(fragment.selectionSet, fragments, seen)) return false;
    }
  }
  return true;
}
