import { describe, expect, it } from 'vitest';
import {
  getIntrospectionQuery,
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type GraphQLSchema,
} from 'graphql';
import { loadConfig } from '../../src/config.js';
import { limitRules, maxRootFieldsRule, type Limits } from '../../src/limits.js';
import { buildSchema } from '../../src/schema.js';

const schema: GraphQLSchema = buildSchema();
const DEFAULTS: Limits = loadConfig({}).limits;

/** Validation messages for `query` under the defaults with `overrides` applied. */
function errors(query: string, overrides: Partial<Limits> = {}): string[] {
  return validate(schema, parse(query), [...specifiedRules, ...limitRules({ ...DEFAULTS, ...overrides })]).map(
    (e) => e.message,
  );
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
    const threeDirectives =
      '{ visitor(id: "a") @include(if: true) { id @skip(if: false) name @include(if: true) } }';

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
