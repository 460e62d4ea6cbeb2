import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type ArgumentNode,
  type ASTVisitor,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { Config } from './config.js';
import type { GatewayContext } from './context.js';
import { GatewayError, overBudget } from './errors.js';
import { PAGE_SIZES } from './rocketchat/paging.js';
import { DEPARTMENTS_PER_CALL } from './rocketchat/client.js';

/**
 * Operation limits, enforced while validating, before anything executes: a refused operation
 * costs Rocket.Chat nothing. Introspection (Apollo Sandbox's own query) is exempt from depth and cost.
 */
export type Limits = Config['limits'];

/**
 * Every validation rule beyond GraphQL's own, for both execution paths: the operation limits, queries
 * only (the schema has no mutations), and, when introspection is off, graphql's rule against it.
 */
export function gatewayRules(config: Pick<Config, 'limits' | 'introspection'>): ValidationRule[] {
  return [...limitRules(config.limits), queriesOnlyRule, ...(config.introspection ? [] : [NoSchemaIntrospectionCustomRule])];
}

/** Without it, a mutation reaches execution and fails there as an internal error instead of a 400. */
export const queriesOnlyRule: ValidationRule = (context) => ({
  OperationDefinition(operation) {
    if (operation.operation !== 'query') {
      context.reportError(new GraphQLError(`This gateway serves queries only; ${operation.operation} operations are not supported.`, { nodes: [operation] }));
    }
  },
});

export function limitRules(limits: Limits): ValidationRule[] {
  // Armor throws its rejection out of the validator by default, which Apollo answers as a 500;
  // reported as a validation error instead, it is the 400 GRAPHQL_VALIDATION_FAILED it should be.
  const report = {
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) => context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''))),
    ],
  };
  return [
    // Flattened: clients built on fragments (Apollo Client, Relay) must not pay depth for them.
    maxDepthRule({ n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, ...report }),
    maxAliasesRule({ n: limits.maxAliases, ...report }),
    maxDirectivesRule({ n: limits.maxDirectives, ...report }),
    costLimitRule({ maxCost: limits.maxCost, ignoreIntrospection: true, flattenFragments: true, ...report }),
    maxRootFieldsRule(limits.maxRootFields),
    pageCostRule(limits.maxCost),
  ] as ValidationRule[];
}

/**
 * A connection's `first` multiplies the cost of what it selects: 50 chats of 10 fields cost 500,
 * where graphql-armor's cost rule (which knows no arguments) counts 10. Each field costs 1, a
 * connection 1 plus `first` times its selection (the most a page holds when `first` is a
 * variable), and the sum must stay within MAX_COST. A literal `first` over a page's maximum is
 * refused here too, before execution. Each fragment is costed once and its cost reused at every
 * spread, so the walk stays linear (see maxRootFieldsRule).
 */
export function pageCostRule(maxCost: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = fragmentsOf(context.getDocument());
    const costed = new Map<string, number>();
    const cost = (set: SelectionSetNode): number => {
      let n = 0;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          if (sel.name.value.startsWith('__')) continue;
          const inner = sel.selectionSet ? cost(sel.selectionSet) : 0;
          const connection = PAGE_SIZES[sel.name.value];
          n += 1 + (connection ? pageSize(sel, connection) * inner : inner);
        } else if (sel.kind === Kind.INLINE_FRAGMENT) n += cost(sel.selectionSet);
        else n += fragmentCost(sel.name.value);
      }
      return n;
    };
    const pageSize = (field: FieldNode, connection: { defaultSize: number; max: number }): number => {
      const first = field.arguments?.find((a) => a.name.value === 'first')?.value;
      if (first?.kind === Kind.INT && Number(first.value) > connection.max) {
        context.reportError(new GraphQLError(`${field.name.value}(first) takes at most ${connection.max}; got ${first.value}.`, { nodes: [first] }));
      }
      return pageSizeOf(first, connection);
    };
    const fragmentCost = (name: string): number => {
      const known = costed.get(name);
      if (known !== undefined) return known;
      const fragment = fragments.get(name);
      if (!fragment) return 0;
      costed.set(name, 0); // a cycle (refused by NoFragmentCyclesRule) adds nothing
      const n = cost(fragment.selectionSet);
      costed.set(name, n);
      return n;
    };
    return {
      OperationDefinition(operation) {
        const found = cost(operation.selectionSet);
        if (found > maxCost) {
          context.reportError(
            new GraphQLError(`Query Cost limit of ${maxCost} exceeded, found ${found} (a page's \`first\` multiplies what it selects).`, {
              nodes: [operation],
            }),
          );
        }
      },
    };
  };
}

/**
 * Each root field can start upstream work, so their number is bounded on its own, counting fields
 * reached through fragments and inline fragments at the root too. Each fragment is counted once per
 * document and its count reused at every spread: counted afresh per spread, a chain of fragments
 * that each spread the next twice doubles the work per link (23 links froze the process for 14 s).
 */
export function maxRootFieldsRule(max: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = fragmentsOf(context.getDocument());
    // 0 while a fragment is being counted: a cycle (refused by NoFragmentCyclesRule) adds nothing.
    const counted = new Map<string, number>();
    const count = (set: SelectionSetNode): number => {
      let n = 0;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) n += sel.name.value.startsWith('__') ? 0 : 1;
        else if (sel.kind === Kind.INLINE_FRAGMENT) n += count(sel.selectionSet);
        else n += fragmentCount(sel.name.value);
      }
      return n;
    };
    const fragmentCount = (name: string): number => {
      const known = counted.get(name);
      if (known !== undefined) return known;
      const fragment = fragments.get(name);
      if (!fragment) return 0;
      counted.set(name, 0);
      const n = count(fragment.selectionSet);
      counted.set(name, n);
      return n;
    };
    return {
      OperationDefinition(operation) {
        const found = count(operation.selectionSet);
        if (found > max) {
          context.reportError(new GraphQLError(`Root field limit of ${max} exceeded, found ${found}.`, { nodes: [operation] }));
        }
      },
    };
  };
}

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION && !fragments.has(def.name.value)) fragments.set(def.name.value, def);
  }
  return fragments;
}

/**
 * The fields that call Rocket.Chat, and the argument that names what they ask for. Within one
 * operation the per-request loader asks for each distinct visitor once, so what an operation can
 * cost is the number of distinct ids across all of these, through every alias and fragment.
 */
const UPSTREAM_FIELDS: Readonly<Record<string, { argument: string; list: boolean; route: IdsSource['route'] }>> = Object.assign(Object.create(null), {
  visitor: { argument: 'id', list: false, route: 'visitors' },
  visitors: { argument: 'ids', list: true, route: 'visitors' },
  department: { argument: 'id', list: false, route: 'departments' },
  // A node id names one object, at most a call each, counted as a visitor (the dearest of the three).
  node: { argument: 'id', list: false, route: 'visitors' },
  nodes: { argument: 'ids', list: true, route: 'visitors' },
});

/** One argument that names visitor ids, as written in the document. */
export interface IdsSource {
  argument: ArgumentNode;
  /** `visitors(ids)`: bounded by MAX_IDS on its own. */
  list: boolean;
  /** Which loader the ids go to: visitors cost a call each, departments one per DEPARTMENTS_PER_CALL. */
  route: 'visitors' | 'departments';
}

/** What an operation's refusal or admission depends on, found once per operation (see operationDemand). */
export interface OperationDemand {
  sources: readonly IdsSource[];
  /** `Visitor.department` is selected: each visitor may add a department to load. */
  visitorDepartments: boolean;
  /** `Visitor.chats` fields: each costs one call per visitor. */
  chatPages: number;
  /** Departments the chats of one visitor may name (page sizes, where the chats' department is selected). */
  chatDepartments: number;
  /** `searchVisitors` pages and the visitors their hits may load, whatever the variables. */
  searchCalls: number;
  /** Variable defaults, which stand in for variables the request leaves out. */
  defaults: ReadonlyMap<string, ValueNode>;
}

/**
 * Every argument of `operation` (through its fragments) that names visitor ids. Each fragment is
 * walked once per operation, however often it is spread: ids form a set, so a second walk would
 * add nothing.
 */
export function operationDemand(document: DocumentNode, operation: OperationDefinitionNode): OperationDemand {
  const fragments = fragmentsOf(document);
  const walked = new Set<string>();
  const sources: IdsSource[] = [];
  let visitorDepartments = false;
  let chatPages = 0;
  let chatDepartments = 0;
  let searchCalls = 0;
  // Where a selection sits decides what its `department` costs; only these types matter here.
  const walk = (set: SelectionSetNode, scope: Scope, pageSize: number) => {
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        const name = sel.name.value;
        const upstream = scope === 'Query' ? UPSTREAM_FIELDS[name] : undefined;
        const argument = upstream && sel.arguments?.find((a) => a.name.value === upstream.argument);
        if (argument && upstream) sources.push({ argument, list: upstream.list, route: upstream.route });
        if (name === 'department' && scope === 'Visitor') visitorDepartments = true;
        if (name === 'department' && scope === 'Chat') chatDepartments += pageSize;
        let inner: Scope = 'other';
        let size = pageSize;
        if (scope === 'Query' && name === 'searchVisitors') {
          // One call for the page, and up to one per hit when the query asks more than a hit carries.
          searchCalls += 1 + pageSizeOf(sel.arguments?.find((a) => a.name.value === 'first')?.value, PAGE_SIZES.searchVisitors!);
        }
        if (scope === 'Query' && (name === 'visitor' || name === 'visitors')) inner = 'Visitor';
        else if (scope === 'Query' && (name === 'node' || name === 'nodes')) inner = 'Node';
        else if (scope === 'Visitor' && name === 'chats') {
          chatPages++;
          inner = 'ChatConnection';
          size = pageSizeOf(sel.arguments?.find((a) => a.name.value === 'first')?.value, PAGE_SIZES.chats!);
        } else if (scope === 'ChatConnection' && name === 'edges') inner = 'ChatEdge';
        else if (scope === 'ChatEdge' && name === 'node') inner = 'Chat';
        if (sel.selectionSet) walk(sel.selectionSet, inner, size);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        walk(sel.selectionSet, sel.typeCondition ? scopeOf(sel.typeCondition.name.value) : scope, pageSize);
      } else if (!walked.has(sel.name.value)) {
        walked.add(sel.name.value);
        const fragment = fragments.get(sel.name.value);
        if (fragment) walk(fragment.selectionSet, scopeOf(fragment.typeCondition.name.value), pageSize);
      }
    }
  };
  walk(operation.selectionSet, 'Query', 0);
  const defaults = new Map<string, ValueNode>();
  for (const def of operation.variableDefinitions ?? []) if (def.defaultValue) defaults.set(def.variable.name.value, def.defaultValue);
  return { sources, visitorDepartments, chatPages, chatDepartments, searchCalls, defaults };
}

type Scope = 'Query' | 'Visitor' | 'Node' | 'ChatConnection' | 'ChatEdge' | 'Chat' | 'other';

function scopeOf(typeName: string): Scope {
  return typeName === 'Query' || typeName === 'Visitor' || typeName === 'ChatConnection' || typeName === 'ChatEdge' || typeName === 'Chat' ? typeName : 'other';
}

/** A page's size as written, or the most a page may hold when it comes from a variable. */
function pageSizeOf(value: ValueNode | undefined, { defaultSize, max }: { defaultSize: number; max: number }): number {
  if (value?.kind === Kind.INT) return Math.min(Number(value.value), max);
  return value === undefined ? defaultSize : max;
}

/** The limits an operation is held to once its variables are known. */
export interface DemandLimits {
  maxIds: number;
  maxUpstreamCalls: number;
}

/**
 * Before execution: refuses `visitors(ids)` over MAX_IDS and any operation that can cost more than
 * MAX_UPSTREAM_CALLS (a call per distinct visitor, one per 20 departments), with HTTP 400 and no
 * upstream call; otherwise says how many calls the operation can cost at most (an upper bound:
 * cached and failed ids cost less, and visitors share departments).
 */
export function checkDemand(
  demand: OperationDemand,
  variables: Record<string, unknown> | null | undefined,
  limits: DemandLimits,
): { calls: number } | { refusal: GatewayError } {
  if (demand.sources.length === 0) {
    const calls = demand.searchCalls;
    return calls > limits.maxUpstreamCalls ? { refusal: overBudget(calls, limits.maxUpstreamCalls) } : { calls };
  }
  // Most operations name one visitor: nothing to tell apart, so no set to build per request.
  const only = demand.sources.length === 1 ? demand.sources[0]! : undefined;
  if (only && !only.list && only.argument.value.kind !== Kind.LIST) {
    const named = Math.min(1, collectIds(only.argument.value, variables, demand.defaults, undefined));
    const visitors = only.route === 'visitors' ? named : 0;
    const departments = (only.route === 'departments' ? named : 0) + visitors * ((demand.visitorDepartments ? 1 : 0) + demand.chatDepartments);
    const calls = visitors * (1 + demand.chatPages) + Math.ceil(departments / DEPARTMENTS_PER_CALL) + demand.searchCalls;
    return calls > limits.maxUpstreamCalls ? { refusal: overBudget(calls, limits.maxUpstreamCalls) } : { calls };
  }
  const ids = new Set<string>();
  const departmentIds = new Set<string>();
  for (const source of demand.sources) {
    const named = collectIds(source.argument.value, variables, demand.defaults, source.route === 'visitors' ? ids : departmentIds);
    if (source.list && named > limits.maxIds) {
      return {
        refusal: new GatewayError(`visitors(ids) takes at most ${limits.maxIds} ids; got ${named}.`, 'BAD_USER_INPUT', {
          nodes: [source.argument],
          http: { status: 400 },
        }),
      };
    }
  }
  // Each visitor names at most one department, and each of its chats one more, which may be ones
  // no other visitor names.
  const departments = departmentIds.size + ids.size * ((demand.visitorDepartments ? 1 : 0) + demand.chatDepartments);
  const calls = ids.size * (1 + demand.chatPages) + Math.ceil(departments / DEPARTMENTS_PER_CALL) + demand.searchCalls;
  if (calls > limits.maxUpstreamCalls) return { refusal: overBudget(calls, limits.maxUpstreamCalls) };
  return { calls };
}

/** Adds the ids `value` names to `into` (when given); returns how many it names (duplicates included). */
function collectIds(
  value: ValueNode,
  variables: Record<string, unknown> | null | undefined,
  defaults: ReadonlyMap<string, ValueNode>,
  into: Set<string> | undefined,
): number {
  switch (value.kind) {
    case Kind.STRING:
    case Kind.INT:
      into?.add(value.value);
      return 1;
    case Kind.LIST: {
      let n = 0;
      for (const item of value.values) n += collectIds(item, variables, defaults, into);
      return n;
    }
    case Kind.VARIABLE: {
      const name = value.name.value;
      const given = variables && Object.hasOwn(variables, name) ? variables[name] : undefined;
      if (given !== undefined) return collectRuntimeIds(given, into);
      const fallback = defaults.get(name);
      // A default is a constant (no variables inside), so this cannot recurse through variables.
      return fallback ? collectIds(fallback, undefined, defaults, into) : 0;
    }
    default:
      return 0;
  }
}

function collectRuntimeIds(value: unknown, into: Set<string> | undefined): number {
  if (typeof value === 'string' || typeof value === 'number') {
    into?.add(String(value));
    return 1;
  }
  if (!Array.isArray(value)) return 0;
  if (into) for (const item of value) if (typeof item === 'string' || typeof item === 'number') into.add(String(item));
  return value.length;
}

/**
 * The gateway's checks once an operation's variables are known, before execution: MAX_IDS, the
 * upstream-call budget, and what Rocket.Chat said is left of the caller's rate-limit bucket.
 */
export class OperationLimits {
  readonly #limits: DemandLimits;
  // Apollo reuses one DocumentNode per query text, so each operation is walked once, not per request.
  readonly #demands = new WeakMap<OperationDefinitionNode, OperationDemand>();

  constructor(limits: DemandLimits) {
    this.#limits = limits;
  }

  /** The refusal for this operation, or undefined when it may run. */
  check(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Record<string, unknown> | null | undefined,
    context: GatewayContext,
  ): GatewayError | undefined {
    let demand = this.#demands.get(operation);
    if (!demand) this.#demands.set(operation, (demand = operationDemand(document, operation)));
    const checked = checkDemand(demand, variables, this.#limits);
    return 'refusal' in checked ? checked.refusal : context.visitors.admit(checked.calls);
  }
}
