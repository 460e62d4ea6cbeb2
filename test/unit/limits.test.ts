import { describe, expect, it } from 'vitest';
import { getIntrospectionQuery, GraphQLError, parse, specifiedRules, validate, type GraphQLSchema } from 'graphql';
import { loadConfig } from '../../src/config.js';
import { checkDemand, gatewayRules, limitRules, maxRootFieldsRule, operationDemand, pageCostRule, type Limits } from '../../src/limits.js';
import { buildSchema } from '../../src/schema.js';

const schema: GraphQLSchema = buildSchema();
const DEFAULTS: Limits = loadConfig({}).limits;

/** Validation messages for `query` under the defaults with `overrides` applied. */
function errors(query: string, overrides: Partial<Limits> = {}): string[] {
  return validate(schema, parse(query), [...specifiedRules, ...limitRules({ ...DEFAULTS, ...overrides })]).map((e) => e.message);
}

/** `n` aliased `visitor` root fields, each selecting `id`. */
function rootFields(n: number): string {
  return `{ ${Array.from({ length: n }, (_, i) => `v${i}: visitor(id: "id${i}") { id }`).join(' ')} }`;
}

describe('limitRules', () => {
  it('leaves an ordinary operation alone under the defaults', () => {
    expect(
      errors(`query One($id: ID!) {
        visitor(id: $id) { id name status createdAt lastChat { id startedAt } contactManager { emails { address } } }
        visitors(ids: ["a", "b"]) { id phones { phoneNumber } }
      }`),
    ).toEqual([]);
  });

  it('passes the standard introspection query with the default limits', () => {
    const introspection = getIntrospectionQuery();
    expect(() => parse(introspection, { maxTokens: DEFAULTS.maxTokens })).not.toThrow();
    expect(errors(introspection)).toEqual([]);
  });

  it('passes the full introspection query (descriptions, deprecations, repeatable…) too', () => {
    const introspection = getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
    });
    expect(() => parse(introspection, { maxTokens: DEFAULTS.maxTokens })).not.toThrow();
    expect(errors(introspection)).toEqual([]);
  });

  describe('maxDepth', () => {
    // Depth counts the leaf: `visitor { contactManager { emails { address } } }` is 4 deep.
    const deep = '{ visitor(id: "a") { contactManager { emails { address } } } }';

    it('accepts an operation at the limit', () => {
      expect(errors(deep, { maxDepth: 4 })).toEqual([]);
    });

    it('rejects an operation just above the limit', () => {
      const found = errors(deep, { maxDepth: 3 });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(/depth limit of 3 exceeded, found 4/i);
    });

    it('counts depth through an inline fragment wrapper when it goes too deep', () => {
      const wrapped = '{ visitor(id: "a") { ... on Visitor { contactManager { emails { address } } } } }';
      expect(errors(wrapped, { maxDepth: 3 }).join()).toMatch(/depth limit of 3 exceeded/i);
    });

    it('reports the refusal as a validation error (a 400), not as a thrown error (a 500)', () => {
      expect(() => validate(schema, parse(deep), limitRules({ ...DEFAULTS, maxDepth: 1 }))).not.toThrow();
      const [err] = validate(schema, parse(deep), limitRules({ ...DEFAULTS, maxDepth: 1 }));
      expect(err).toBeInstanceOf(GraphQLError);
      expect(err?.message).toBe('Query depth limit of 1 exceeded, found 4.');
    });

    // Depth is how deeply fields nest. Named fragments, as Apollo Client and Relay colocate them,
    // must not make an operation deeper than the same operation written inline. This schema is at
    // most 4 deep, so under the default MAX_DEPTH of 6 every valid operation on it should pass.
    it('measures the same depth through named fragments as inline (default limits)', () => {
      const viaFragments = `{ visitor(id: "a") { ...V } }
        fragment V on Visitor { contactManager { ...CM } }
        fragment CM on VisitorContactManager { emails { address } }`;
      expect(errors(viaFragments)).toEqual([]);
      expect(errors(viaFragments, { maxDepth: 4 })).toEqual([]);
      expect(errors(viaFragments, { maxDepth: 3 })).toEqual(['Query depth limit of 3 exceeded, found 4.']);
    });
  });

  describe('maxAliases', () => {
    const threeAliases = '{ a: visitor(id: "a") { x: id } b: visitor(id: "b") { id } }';

    it('accepts an operation at the limit', () => {
      expect(errors(threeAliases, { maxAliases: 3 })).toEqual([]);
    });

    it('rejects an operation just above the limit', () => {
      const found = errors(threeAliases, { maxAliases: 2 });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(/aliases limit of 2 exceeded, found 3/i);
    });

    it('rejects any alias with a limit of 0', () => {
      expect(errors('{ a: visitor(id: "a") { id } }', { maxAliases: 0 }).join()).toMatch(/aliases limit of 0/i);
      expect(errors('{ visitor(id: "a") { id } }', { maxAliases: 0 })).toEqual([]);
    });
  });

  describe('maxDirectives', () => {
    const threeDirectives = '{ visitor(id: "a") @include(if: true) { id @skip(if: false) name @include(if: true) } }';

    it('accepts an operation at the limit', () => {
      expect(errors(threeDirectives, { maxDirectives: 3 })).toEqual([]);
    });

    it('rejects an operation just above the limit', () => {
      const found = errors(threeDirectives, { maxDirectives: 2 });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(/directives limit of 2 exceeded, found 3/i);
    });
  });

  describe('maxCost', () => {
    // An object field costs 2 and each scalar below it 1 × a depth factor of 1.5: `visitors { id name }`
    // costs 2 + 2 × 1.5 = 5, so two of them cost 10.
    const costTen = '{ a: visitors(ids: ["a"]) { id name } b: visitors(ids: ["b"]) { id name } }';

    it('accepts an operation at the limit', () => {
      expect(errors(costTen, { maxCost: 10 })).toEqual([]);
    });

    it('rejects an operation just above the limit', () => {
      const found = errors(costTen, { maxCost: 9 });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(/cost limit of 9 exceeded, found 10/i);
    });

    it('grows with nesting, not only with the number of fields', () => {
      const flat = errors('{ visitor(id: "a") { id name } }', { maxCost: 1 }).join();
      const nested = errors('{ visitor(id: "a") { lastChat { id startedAt } } }', { maxCost: 1 }).join();
      const cost = (msg: string) => Number(/Cost limit of \d+ exceeded, found (\d+(?:\.\d+)?)/.exec(msg)?.[1]);
      expect(cost(flat)).toBe(5);
      expect(cost(nested)).toBeGreaterThan(cost(flat));
    });
  });

  describe('maxRootFields', () => {
    it('accepts an operation at the limit', () => {
      expect(errors(rootFields(3), { maxRootFields: 3 })).toEqual([]);
    });

    it('rejects an operation just above the limit', () => {
      const found = errors(rootFields(4), { maxRootFields: 3 });
      expect(found).toEqual(['Root field limit of 3 exceeded, found 4.']);
    });

    it('enforces the default of 20', () => {
      expect(DEFAULTS.maxRootFields).toBe(20);
      // Identical unaliased fields merge, so they need no aliases (the default alias limit is 15).
      const same = (n: number) => `{ ${'visitor(id: "a") { id } '.repeat(n)}}`;
      expect(errors(same(20))).toEqual([]);
      expect(errors(same(21))).toEqual(['Root field limit of 20 exceeded, found 21.']);
    });

    it('does not count __typename', () => {
      expect(errors('{ __typename visitor(id: "a") { id } }', { maxRootFields: 1 })).toEqual([]);
    });

    it('counts root fields reached through fragment spreads', () => {
      const doc = `{ ...Two visitor(id: "c") { id } }
        fragment Two on Query { a: visitor(id: "a") { id } b: visitor(id: "b") { id } }`;
      expect(errors(doc, { maxRootFields: 3 })).toEqual([]);
      expect(errors(doc, { maxRootFields: 2 })).toEqual(['Root field limit of 2 exceeded, found 3.']);
    });

    it('counts root fields reached through nested fragment spreads', () => {
      const doc = `{ ...Outer }
        fragment Outer on Query { a: visitor(id: "a") { id } ...Inner }
        fragment Inner on Query { b: visitor(id: "b") { id } c: visitors(ids: ["c"]) { id } }`;
      expect(errors(doc, { maxRootFields: 3 })).toEqual([]);
      expect(errors(doc, { maxRootFields: 2 })).toEqual(['Root field limit of 2 exceeded, found 3.']);
    });

    it('counts root fields reached through inline fragments', () => {
      const doc = `{ a: visitor(id: "a") { id } ... on Query { b: visitor(id: "b") { id } ... { c: visitor(id: "c") { id } } } }`;
      expect(errors(doc, { maxRootFields: 3 })).toEqual([]);
      expect(errors(doc, { maxRootFields: 2 })).toEqual(['Root field limit of 2 exceeded, found 3.']);
    });

    it('counts each operation of a document on its own', () => {
      const doc = `query A { a: visitor(id: "a") { id } b: visitor(id: "b") { id } }
        query B { c: visitor(id: "c") { id } d: visitor(id: "d") { id } }`;
      expect(errors(doc, { maxRootFields: 2 })).toEqual([]);
    });

    it('terminates on fragment cycles (which the standard rules reject)', () => {
      const doc = `{ ...A } fragment A on Query { a: visitor(id: "a") { id } ...B }
        fragment B on Query { b: visitor(id: "b") { id } ...A }`;
      const found = errors(doc, { maxRootFields: 20 });
      expect(found.some((m) => /cannot spread fragment/i.test(m))).toBe(true);
    });

    it('works as a rule on its own', () => {
      const rule = maxRootFieldsRule(1);
      expect(validate(schema, parse(rootFields(1)), [rule])).toEqual([]);
      const [err, ...rest] = validate(schema, parse(rootFields(2)), [rule]);
      expect(rest).toEqual([]);
      expect(err).toBeInstanceOf(GraphQLError);
      expect(err?.message).toBe('Root field limit of 1 exceeded, found 2.');
      expect(err?.locations).toEqual([{ line: 1, column: 1 }]);
    });
  });

  describe('linear in the document', () => {
    // Each fragment spreads the next twice: walked afresh at every spread, the work doubles per
    // link (23 links froze the old root-field rule for 14 s); 2000 tokens allow about 180 links.
    const chain = (links: number, on: 'Query' | 'Visitor') => {
      let q = on === 'Query' ? '{ ...F0 }' : '{ visitor(id: "a") { ...F0 } }';
      for (let i = 0; i < links; i++) q += ` fragment F${i} on ${on} { ${on === 'Visitor' ? 'name ' : ''}...F${i + 1} ...F${i + 1} }`;
      return `${q} fragment F${links} on ${on} { ${on === 'Query' ? 'visitor(id: "a") { id }' : 'id'} }`;
    };

    it('counts root fields through a doubling fragment chain without expanding it', () => {
      const doc = parse(chain(30, 'Query'));
      const started = performance.now();
      const found = validate(schema, doc, [maxRootFieldsRule(20)]).map((e) => e.message);
      expect(performance.now() - started).toBeLessThan(1000);
      // One field, reached through 2^30 paths: the count multiplies, the work does not.
      expect(found).toEqual([`Root field limit of 20 exceeded, found ${2 ** 30}.`]);
    });

    it('validates the longest chains the token limit allows, with every gateway rule, quickly', () => {
      for (const [links, on] of [
        [180, 'Query'],
        [120, 'Visitor'],
      ] as const) {
        const doc = parse(chain(links, on), { maxTokens: DEFAULTS.maxTokens });
        const started = performance.now();
        const found = validate(schema, doc, [...specifiedRules, ...gatewayRules({ limits: DEFAULTS, introspection: true })]);
        expect(performance.now() - started).toBeLessThan(1000);
        expect(found.length).toBeGreaterThan(0);
      }
    });
  });

  describe('maxTokens (parser option)', () => {
    // { visitor ( id : "a" ) { id } } is 11 tokens (<SOF> and <EOF> are not counted).
    const elevenTokens = '{ visitor(id: "a") { id } }';

    it('parses a document at the limit', () => {
      expect(parse(elevenTokens, { maxTokens: 11 }).definitions).toHaveLength(1);
    });

    it('refuses a document just above the limit with a syntax error', () => {
      let thrown: unknown;
      try {
        parse(elevenTokens, { maxTokens: 10 });
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(GraphQLError);
      expect((thrown as GraphQLError).message).toMatch(/^Syntax Error: Document contains more th.. 10 tokens/);
    });

    it('refuses a document over the default of 2000 tokens', () => {
      expect(DEFAULTS.maxTokens).toBe(2000);
      const within = `{ ${'__typename '.repeat(1998)}}`; // 1998 + { and } = 2000
      expect(() => parse(within, { maxTokens: DEFAULTS.maxTokens })).not.toThrow();
      const above = `{ ${'__typename '.repeat(1999)}}`;
      expect(() => parse(above, { maxTokens: DEFAULTS.maxTokens })).toThrow(/^Syntax Error/);
    });
  });
});

describe('the upstream-call budget (operationDemand + checkDemand)', () => {
  const LIMITS = { maxIds: 100, maxUpstreamCalls: 120 };
  const demandOf = (query: string) => {
    const doc = parse(query);
    const operation = doc.definitions.find((d) => d.kind === 'OperationDefinition');
    if (!operation || operation.kind !== 'OperationDefinition') throw new Error('no operation');
    return operationDemand(doc, operation);
  };
  const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => `"v${from + i}"`).join(' ');

  it('counts distinct ids across fields, aliases and fragments', () => {
    const demand = demandOf(`query($one: ID!, $list: [ID!]!) {
      a: visitor(id: "x") { id } b: visitor(id: "x") { id } c: visitor(id: $one) { id }
      visitors(ids: $list) { id } ...F
    } fragment F on Query { d: visitors(ids: ["x", "y", $one]) { id } }`);
    expect(checkDemand(demand, { one: 'z', list: ['x', 'w', 'w'] }, LIMITS)).toEqual({ calls: 4 });
  });

  it('refuses the 1,601-call operation before any call: 15 aliases of 100 distinct ids, one more, one visitor', () => {
    const fields = Array.from({ length: 15 }, (_, k) => `a${k}: visitors(ids: [${ids(k * 100, 100)}]) { id }`).join(' ');
    const demand = demandOf(`{ ${fields} more: visitors(ids: [${ids(1500, 100)}]) { id } one: visitor(id: "last") { id } }`);
    const checked = checkDemand(demand, {}, LIMITS);
    expect('refusal' in checked && checked.refusal.extensions).toMatchObject({ code: 'UPSTREAM_BUDGET_EXCEEDED', http: { status: 400 } });
    expect('refusal' in checked && checked.refusal.message).toMatch(/1601 Rocket.Chat calls; at most 120/);
  });

  it('lets a console ask for 100 visitors and a few more at once', () => {
    const demand = demandOf(`{ visitors(ids: [${ids(0, 100)}]) { id } a: visitor(id: "v1") { id } b: visitor(id: "extra") { id } }`);
    expect(checkDemand(demand, {}, LIMITS)).toEqual({ calls: 101 });
  });

  it('walks a fragment spread many times only once', () => {
    let q = '{ ...F0 }';
    for (let i = 0; i < 40; i++) q += ` fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`;
    const demand = demandOf(`${q} fragment F40 on Query { visitor(id: "only") { id } }`);
    expect(demand.sources).toHaveLength(1);
    expect(checkDemand(demand, {}, LIMITS)).toEqual({ calls: 1 });
  });

  it('holds a variable default to MAX_IDS, as a variable or a literal is', () => {
    const many = `[${ids(0, 150)}]`;
    const demand = demandOf(`query($ids: [ID!]! = ${many}) { visitors(ids: $ids) { id } }`);
    const checked = checkDemand(demand, {}, LIMITS);
    expect('refusal' in checked && checked.refusal.extensions).toMatchObject({ code: 'BAD_USER_INPUT', http: { status: 400 } });
    // A value sent for the variable replaces the default.
    expect(checkDemand(demand, { ids: ['a'] }, LIMITS)).toEqual({ calls: 1 });
  });

  it("counts a visitor's department as up to one call per 20 departments on top of its visitors", () => {
    expect(checkDemand(demandOf('{ visitor(id: "x") { department { name } } }'), {}, LIMITS)).toEqual({ calls: 2 });
    expect(checkDemand(demandOf('query($id: ID!) { visitor(id: $id) { department { name } } }'), { id: 'a' }, LIMITS)).toEqual({ calls: 2 });
    // 100 visitors may name 100 departments: 5 calls of 20.
    const console100 = demandOf(`{ visitors(ids: [${ids(0, 100)}]) { id department { name } } }`);
    expect(checkDemand(console100, {}, LIMITS)).toEqual({ calls: 105 });
  });

  it('counts root departments by distinct id, 20 to a call, apart from visitor ids', () => {
    const demand = demandOf(`{ a: department(id: "d1") { name } b: department(id: "d1") { name } c: department(id: "d2") { name } visitor(id: "d1") { id } }`);
    expect(demand.visitorDepartments).toBe(false);
    expect(checkDemand(demand, {}, LIMITS)).toEqual({ calls: 2 });
    const many = Array.from({ length: 21 }, (_, i) => `d${i}: department(id: "dep${i}") { name }`).join(' ');
    expect(checkDemand(demandOf(`{ ${many} }`), {}, LIMITS)).toEqual({ calls: 2 });
  });

  it('refuses an operation whose departments push it over the budget', () => {
    const fields = `a: visitors(ids: [${ids(0, 100)}]) { department { name } } b: visitor(id: "v100") { department { name } }`;
    const tight = { maxIds: 100, maxUpstreamCalls: 105 };
    const checked = checkDemand(demandOf(`{ ${fields} }`), {}, tight);
    expect('refusal' in checked && checked.refusal.extensions).toMatchObject({ code: 'UPSTREAM_BUDGET_EXCEEDED' });
    expect(checkDemand(demandOf(`{ a: visitors(ids: [${ids(0, 100)}]) { department { name } } }`), {}, tight)).toEqual({ calls: 105 });
  });

  it("counts a chats page as a call per visitor, and its chats' departments by the page size", () => {
    expect(checkDemand(demandOf('{ visitor(id: "x") { chats { totalCount } } }'), {}, LIMITS)).toEqual({ calls: 2 });
    // 1 visitor + 2 pages + departments: 1 (the visitor's) + 10 (first page) + 5 (second) = 16 → 1 call.
    const paged = demandOf(
      `{ visitor(id: "x") { department { name } a: chats { edges { node { department { name } } } } b: chats(first: 5) { edges { node { id } } } c: chats(first: 5) { edges { node { department { id } } } } } }`,
    );
    expect(paged).toMatchObject({ chatPages: 3, chatDepartments: 15, visitorDepartments: true });
    expect(checkDemand(paged, {}, LIMITS)).toEqual({ calls: 5 });
    // 100 visitors with a page of chats each: 200 calls, over the default budget.
    const console100 = demandOf(`{ visitors(ids: [${ids(0, 100)}]) { chats(first: 1) { totalCount } } }`);
    const checked = checkDemand(console100, {}, LIMITS);
    expect('refusal' in checked && checked.refusal.extensions).toMatchObject({ code: 'UPSTREAM_BUDGET_EXCEEDED' });
  });

  it('reads the chats of a fragment on Chat in its own scope, and counts a page size from a variable as the most a page holds', () => {
    const demand = demandOf(`query($n: Int) { visitor(id: "x") { chats(first: $n) { edges { node { ...C } } } } } fragment C on Chat { department { name } }`);
    expect(demand).toMatchObject({ chatPages: 1, chatDepartments: 50, visitorDepartments: false });
    expect(checkDemand(demand, {}, LIMITS)).toEqual({ calls: 2 + Math.ceil(50 / 20) });
  });

  it('counts a search as its page plus up to one visitor per hit', () => {
    expect(checkDemand(demandOf('{ searchVisitors(term: "a") { totalCount } }'), {}, LIMITS)).toEqual({ calls: 21 });
    expect(checkDemand(demandOf('query($n: Int) { s: searchVisitors(term: "a", first: $n) { totalCount } visitor(id: "x") { id } }'), {}, LIMITS)).toEqual({
      calls: 52,
    });
    const three = demandOf(
      '{ a: searchVisitors(term: "a", first: 50) { totalCount } b: searchVisitors(term: "b", first: 50) { totalCount } c: searchVisitors(term: "c", first: 50) { totalCount } }',
    );
    expect('refusal' in checkDemand(three, {}, LIMITS)).toBe(true);
  });

  it('an operation without upstream fields costs nothing', () => {
    expect(checkDemand(demandOf('{ __typename }'), {}, LIMITS)).toEqual({ calls: 0 });
  });

  it('does not take inherited properties of the variables object for variables', () => {
    const demand = demandOf('query($constructor: ID) { visitor(id: $constructor) { id } }');
    expect(checkDemand(demand, {}, LIMITS)).toEqual({ calls: 0 });
  });
});

describe("pageCostRule: a page's first multiplies what it selects", () => {
  const schema = buildSchema();
  const errorsOf = (query: string, max: number) => validate(schema, parse(query), [pageCostRule(max)]).map((e) => e.message);

  it('costs a page of 50 chats of 5 fields as 50 × their selection, and refuses it under a budget it exceeds', () => {
    const query = '{ visitor(id: "x") { chats(first: 50) { edges { node { id open tags startedAt closedAt } } } } }';
    // node 1+5, edges 1+6 → chats 1 + 50 × 7 = 351, visitor 1 + 351.
    expect(errorsOf(query, 352)).toEqual([]);
    expect(errorsOf(query, 351)[0]).toMatch(/Query Cost limit of 351 exceeded, found 352/);
  });

  it('counts a page size from a variable as the most a page holds, and the default when first is left out', () => {
    expect(errorsOf('query($n: Int) { visitor(id: "x") { chats(first: $n) { totalCount } } }', 52)).toEqual([]);
    expect(errorsOf('query($n: Int) { visitor(id: "x") { chats(first: $n) { totalCount } } }', 51)).toHaveLength(1);
    expect(errorsOf('{ searchVisitors(term: "a") { totalCount } }', 21)).toEqual([]);
    expect(errorsOf('{ searchVisitors(term: "a") { totalCount } }', 20)).toHaveLength(1);
  });

  it('refuses a literal first over the page maximum before execution', () => {
    expect(errorsOf('{ searchVisitors(term: "a", first: 51) { totalCount } }', 100_000)).toContain('searchVisitors(first) takes at most 50; got 51.');
  });

  it('nested pages multiply: 50 search hits each with 50 chats', () => {
    const query = '{ searchVisitors(term: "a", first: 50) { edges { node { chats(first: 50) { edges { node { id } } } } } } }';
    const [message] = errorsOf(query, 5000);
    // chats: 1 + 50 × (edges 1 + node 2) = 151; search: 1 + 50 × (edges 1 + node 1 + 151) = 7651.
    expect(message).toMatch(/found 7651 /);
  });

  it('costs a fragment once, however often it is spread', () => {
    let q = '{ ...F0 }';
    for (let i = 0; i < 40; i++) q += ` fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`;
    // 2^40 spreads of one visitor: refused, and costed in one pass over 41 fragments (a walk per
    // spread would not finish).
    expect(errorsOf(`${q} fragment F40 on Query { visitor(id: "x") { id } }`, 5000)[0]).toMatch(/exceeded, found \d{13,}/);
  });
});
