/**
 * The SDL's `enum ErrorCode` is the contract clients type `extensions.code` with: it must be the
 * catalogue of src/errors.ts exactly, each value described, and every field that reaches Rocket.Chat
 * must name the codes it can fail with, all of them real.
 */
import { graphql, GraphQLEnumType, GraphQLObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { ErrorCode as GeneratedErrorCode } from '../../src/__generated__/resolvers-types.js';
import { ErrorCode } from '../../src/errors.js';
import { buildSchema } from '../../src/schema.js';

const schema = buildSchema();
const catalogue = new Set<string>(Object.values(ErrorCode));

// Compile-time: the type codegen emits from the SDL and the catalogue's type are the same union.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameUnion: Same<GeneratedErrorCode, ErrorCode> = true;

/** Every field whose resolver asks Rocket.Chat, as `Type.field`. */
const UPSTREAM_FIELDS = [
  'Query.visitor',
  'Query.visitors',
  'Query.department',
  'Query.node',
  'Query.nodes',
  'Query.searchVisitors',
  'Visitor.department',
  'Visitor.chats',
  'VisitorLastAgent.agent',
  'VisitorContactManager.user',
  'Chat.department',
  'Chat.servedBy',
];

function field(path: string) {
  const [typeName, fieldName] = path.split('.') as [string, string];
  const type = schema.getType(typeName);
  expect(type).toBeInstanceOf(GraphQLObjectType);
  const found = (type as GraphQLObjectType).getFields()[fieldName];
  expect(found, path).toBeDefined();
  return found!;
}

describe('enum ErrorCode', () => {
  const type = schema.getType('ErrorCode') as GraphQLEnumType;

  it('holds exactly the catalogue of src/errors.ts', () => {
    expect(sameUnion).toBe(true);
    expect(type).toBeInstanceOf(GraphQLEnumType);
    expect(new Set(type.getValues().map((v) => v.name))).toEqual(catalogue);
  });

  it('describes the type and every value', () => {
    expect(type.description?.length).toBeGreaterThan(40);
    for (const value of type.getValues()) expect(value.description?.length, value.name).toBeGreaterThan(20);
  });

  it('is in the schema a client introspects (Sandbox lists it, codegen emits it)', async () => {
    const result = await graphql({ schema, source: '{ __type(name: "ErrorCode") { kind enumValues { name description } } }' });
    expect(result.errors).toBeUndefined();
    const seen = (result.data as { __type: { kind: string; enumValues: { name: string }[] } }).__type;
    expect(seen.kind).toBe('ENUM');
    expect(seen.enumValues.map((v) => v.name).sort()).toEqual([...catalogue].sort());
  });
});

describe('field descriptions name their codes', () => {
  it.each(UPSTREAM_FIELDS)('%s ends with the codes it can fail with, every one a catalogue code', (path) => {
    const description = field(path).description ?? '';
    const errors = /Errors: ([^\n]+)\.\s*$/.exec(description);
    expect(errors, `${path} has no "Errors:" sentence`).not.toBeNull();
    const named = [...errors![1]!.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(0);
    for (const code of named) expect(catalogue, `${path} names ${code}`).toContain(code);
    // Every field that calls Rocket.Chat can meet its refusals and its failures.
    if (path !== 'Query.nodes')
      for (const code of ['UNAUTHENTICATED', 'FORBIDDEN', 'RATE_LIMITED', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_TIMEOUT']) expect(named).toContain(code);
  });
});

describe('scalars', () => {
  it('DateTime and JSONObject carry the @specifiedBy URL the SDL gives them', async () => {
    const result = await graphql({
      schema,
      source: '{ d: __type(name: "DateTime") { specifiedByURL } j: __type(name: "JSONObject") { specifiedByURL } }',
    });
    expect(result.data).toEqual({
      d: { specifiedByURL: 'https://scalars.graphql.org/andimarek/date-time' },
      j: { specifiedByURL: 'https://www.ecma-international.org/publications-and-standards/standards/ecma-404/' },
    });
  });
});
