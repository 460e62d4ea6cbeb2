import { getOperationAST, GraphQLError, getVariableValues, parse, specifiedRules, validate, } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';
import { maskUnexpected } from './apollo.js';
import { gatewayRules, idsArguments, tooManyIds } from './limits.js';
import { recordOperation } from './operationLog.js';
export class FastPath {
    #schema;
    #config;
    #metrics;
    #rules;
    #prepared = new LRUCache({ max: 1000 });
    constructor(schema, config, metrics) {
        this.#schema = schema;
        this.#config = config;
        this.#metrics = metrics;
        this.#rules = [...specifiedRules, ...gatewayRules(config)];
    }
    /** Whether this path answers the request; anything else goes to Apollo Server. */
    accepts(body) {
        if (!body || typeof body !== 'object' || Array.isArray(body))
            return false;
        const b = body;
        return (typeof b.query === 'string' &&
            b.extensions === undefined &&
            (b.variables === undefined || b.variables === null || (typeof b.variables === 'object' && !Array.isArray(b.variables))) &&
            (b.operationName === undefined || b.operationName === null || typeof b.operationName === 'string'));
    }
    async run(body, context) {
        const started = performance.now();
        const operationName = typeof body.operationName === 'string' ? body.operationName : null;
        let status = 200;
        let errors;
        let data;
        let formatted;
        const prepared = this.#prepare(body.query);
        const operation = prepared.failure ?? this.#operation(prepared, operationName);
        if ('failure' in operation || 'errors' in operation) {
            const failure = 'failure' in operation ? operation.failure : operation;
            status = failure.status;
            formatted = failure.errors;
        }
        else {
            const variables = (body.variables ?? {});
            const tooMany = tooManyIds(operation.ids, variables, this.#config.maxIds);
            if (tooMany) {
                status = 400;
                formatted = [withCode(tooMany, 'BAD_USER_INPUT')];
            }
            else {
                const result = await operation.compiled.query(undefined, context, variables);
                data = result.data;
                errors = result.errors;
                // No `data` at all means the variables did not coerce: a request error, as Apollo answers it,
                // worded by graphql-js itself (only on this failure path, so the happy path coerces once).
                if (!('data' in result) || result.data === undefined) {
                    status = 400;
                    const coerced = getVariableValues(this.#schema, operation.variables, variables);
                    if (coerced.errors)
                        errors = coerced.errors;
                }
                formatted = errors?.map((e) => (status === 400 ? withCode(e, 'BAD_USER_INPUT') : this.#format(e, context)));
            }
        }
        if (formatted)
            formatted = formatted.map((e) => ({ ...e, extensions: { ...e.extensions, requestId: context.requestId } }));
        recordOperation(context, this.#metrics, {
            operationName: operationName ?? ('compiled' in operation ? operation.name : null),
            seconds: (performance.now() - started) / 1000,
            httpStatus: status,
            codes: formatted?.map((e) => e.extensions?.code) ?? [],
        });
        const payload = formatted?.length ? (status === 400 && data === undefined ? { errors: formatted } : { errors: formatted, data }) : { data };
        return { status, body: JSON.stringify(payload) };
    }
    #format(error, context) {
        if (error.originalError && !(error.originalError instanceof GraphQLError)) {
            context.log.error({ err: error.originalError, path: error.path }, 'unexpected error while resolving');
        }
        const formatted = error.toJSON();
        const withDefault = formatted.extensions?.code ? formatted : { ...formatted, extensions: { ...formatted.extensions, code: 'INTERNAL_SERVER_ERROR' } };
        return maskUnexpected(withDefault, error);
    }
    #prepare(query) {
        const cached = this.#prepared.get(query);
        if (cached)
            return cached;
        let prepared;
        let document;
        try {
            document = parse(query, { maxTokens: this.#config.limits.maxTokens });
        }
        catch (err) {
            prepared = { operations: new Map(), failure: { status: 400, errors: [withCode(err, 'GRAPHQL_PARSE_FAILED')] } };
            this.#prepared.set(query, prepared);
            return prepared;
        }
        const invalid = validate(this.#schema, document, this.#rules);
        prepared = invalid.length
            ? {
                operations: new Map(),
                failure: {
                    status: 400,
                    errors: invalid.map((e) => withCode(this.#config.production ? withoutSuggestions(e) : e, 'GRAPHQL_VALIDATION_FAILED')),
                },
            }
            : { document, operations: new Map() };
        this.#prepared.set(query, prepared);
        return prepared;
    }
    #operation(prepared, operationName) {
        const key = operationName ?? '';
        const known = prepared.operations.get(key);
        if (known)
            return known;
        const document = prepared.document;
        let entry;
        const operation = getOperationAST(document, operationName);
        if (!operation) {
            const message = operationName
                ? `Unknown operation named "${operationName}".`
                : 'Must provide operation name if query contains multiple operations.';
            entry = { failure: { status: 400, errors: [{ message, extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } }] } };
        }
        else {
            const compiled = compileQuery(this.#schema, document, operationName ?? undefined, {
                customSerializers: { DateTime: serializeDateTime },
            });
            entry = isCompiledQuery(compiled)
                ? { compiled, ids: idsArguments(document), variables: operation.variableDefinitions ?? [], name: operation.name?.value ?? null }
                : { failure: { status: 400, errors: (compiled.errors ?? []).map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED')) } };
        }
        prepared.operations.set(key, entry);
        return entry;
    }
}
/** What the DateTime scalar prints (UTC, milliseconds): Rocket.Chat's dates are already in that form. */
const CANONICAL_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
/**
 * The DateTime scalar's output without its cost: graphql-scalars parses every date into a Date
 * for JSON to print it back; a date already in canonical form (validated at the edge,
 * rocketchat/validate.ts) is copied, anything else normalised exactly as the scalar would.
 */
function serializeDateTime(value) {
    return typeof value === 'string' && CANONICAL_DATE.test(value) ? value : new Date(value).toISOString();
}
function withCode(error, code) {
    const formatted = error instanceof GraphQLError ? error.toJSON() : error;
    // `http` is an instruction to the HTTP layer (Apollo strips it too), not part of the answer.
    const { http: _http, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions: { ...extensions, code } };
}
function withoutSuggestions(error) {
    return new GraphQLError(error.message.replace(/ ?Did you mean(.+?)\?$/, ''), { nodes: error.nodes, extensions: error.extensions });
}
//# sourceMappingURL=fastPath.js.map