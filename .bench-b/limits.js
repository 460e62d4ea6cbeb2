import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { GraphQLError, Kind, NoSchemaIntrospectionCustomRule, visit, } from 'graphql';
/**
 * Every validation rule beyond GraphQL's own, for both execution paths: the operation limits, queries
 * only (the schema has no mutations), and, when introspection is off, graphql's rule against it.
 */
export function gatewayRules(config) {
    return [
        ...limitRules(config.limits),
        queriesOnlyRule,
        ...(config.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
    ];
}
/** Without it, a mutation reaches execution and fails there as an internal error instead of a 400. */
export const queriesOnlyRule = (context) => ({
    OperationDefinition(operation) {
        if (operation.operation !== 'query') {
            context.reportError(new GraphQLError(`This gateway serves queries only; ${operation.operation} operations are not supported.`, { nodes: [operation] }));
        }
    },
});
export function limitRules(limits) {
    // Armor throws its rejection out of the validator by default, which Apollo answers as a 500;
    // reported as a validation error instead, it is the 400 GRAPHQL_VALIDATION_FAILED it should be.
    const report = {
        exposeLimits: true,
        propagateOnRejection: false,
        onReject: [
            (context, error) => context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''))),
        ],
    };
    return [
        // Flattened: clients built on fragments (Apollo Client, Relay) must not pay depth for them.
        maxDepthRule({ n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, ...report }),
        maxAliasesRule({ n: limits.maxAliases, ...report }),
        maxDirectivesRule({ n: limits.maxDirectives, ...report }),
        costLimitRule({ maxCost: limits.maxCost, ignoreIntrospection: true, flattenFragments: true, ...report }),
        maxRootFieldsRule(limits.maxRootFields),
    ];
}
/**
 * Each root field can start upstream work, so their number is bounded on its own, counting fields
 * reached through fragments and inline fragments at the root too.
 */
export function maxRootFieldsRule(max) {
    return (context) => {
        const fragments = new Map();
        for (const def of context.getDocument().definitions) {
            if (def.kind === Kind.FRAGMENT_DEFINITION)
                fragments.set(def.name.value, def);
        }
        const count = (set, seen) => set.selections.reduce((n, sel) => {
            if (sel.kind === Kind.FIELD)
                return n + (sel.name.value.startsWith('__') ? 0 : 1);
            if (sel.kind === Kind.INLINE_FRAGMENT)
                return n + count(sel.selectionSet, seen);
            const name = sel.name.value;
            const fragment = fragments.get(name);
            if (!fragment || seen.has(name))
                return n;
            return n + count(fragment.selectionSet, new Set([...seen, name]));
        }, 0);
        return {
            OperationDefinition(operation) {
                const found = count(operation.selectionSet, new Set());
                if (found > max) {
                    context.reportError(new GraphQLError(`Root field limit of ${max} exceeded, found ${found}.`, { nodes: [operation] }));
                }
            },
        };
    };
}
/** Every `ids` argument of a `visitors` field in the document (the only field that fans out). */
export function idsArguments(document) {
    const found = [];
    visit(document, {
        Field(node) {
            const arg = node.name.value === 'visitors' ? node.arguments?.find((a) => a.name.value === 'ids') : undefined;
            if (arg)
                found.push(arg);
        },
    });
    return found;
}
/** The MAX_IDS refusal for the first `ids` argument over the limit, once variables are known. */
export function tooManyIds(args, variables, maxIds) {
    for (const arg of args) {
        const value = arg.value;
        const count = value.kind === Kind.LIST ? value.values.length : value.kind === Kind.VARIABLE ? lengthOf(variables?.[value.name.value]) : 1;
        if (count > maxIds) {
            return new GraphQLError(`visitors(ids) takes at most ${maxIds} ids; got ${count}.`, {
                nodes: [arg],
                extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
            });
        }
    }
    return undefined;
}
/**
 * `visitors(ids)` longer than MAX_IDS is refused once variables are known, before execution, with
 * HTTP 400: one operation must not fan out into hundreds of Rocket.Chat calls.
 */
export function idsLimitPlugin(maxIds) {
    // Apollo reuses one DocumentNode per query text, so each document is walked once, not per request.
    const cache = new WeakMap();
    return {
        async requestDidStart() {
            return {
                async didResolveOperation({ document, request }) {
                    let args = cache.get(document);
                    if (!args)
                        cache.set(document, (args = idsArguments(document)));
                    const refusal = tooManyIds(args, request.variables, maxIds);
                    if (refusal)
                        throw refusal;
                },
            };
        },
    };
}
function lengthOf(value) {
    return Array.isArray(value) ? value.length : 1;
}
//# sourceMappingURL=limits.js.map