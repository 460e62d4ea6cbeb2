import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { GraphQLScalarType, Kind, parse, type GraphQLSchema } from 'graphql';
import { resolvers } from './resolvers/index.js';

/** schema/ sits beside src/ and dist/, so one relative path serves both the sources and the build. */
const SCHEMA_DIR = fileURLToPath(new URL('../schema/', import.meta.url));

export function loadTypeDefs(dir = SCHEMA_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((f) => readFileSync(dir + f, 'utf8'));
}

export function buildSchema(): GraphQLSchema {
  const typeDefs = loadTypeDefs();
  const schema = makeExecutableSchema({ typeDefs, resolvers });
  // graphql-tools lets a scalar resolver's own `specifiedByURL` (graphql-scalars sets one, or none)
  // replace the SDL's `@specifiedBy`; the SDL is the contract, so its URL is what introspection shows.
  for (const [name, url] of specifiedByUrls(typeDefs)) {
    const type = schema.getType(name);
    if (type instanceof GraphQLScalarType) type.specifiedByURL = url;
  }
  return schema;
}

function specifiedByUrls(typeDefs: readonly string[]): Map<string, string> {
  const urls = new Map<string, string>();
  for (const source of typeDefs) {
    for (const definition of parse(source).definitions) {
      if (definition.kind !== Kind.SCALAR_TYPE_DEFINITION) continue;
      const url = definition.directives?.find((d) => d.name.value === 'specifiedBy')?.arguments?.find((a) => a.name.value === 'url')?.value;
      if (url?.kind === Kind.STRING) urls.set(definition.name.value, url.value);
    }
  }
  return urls;
}
