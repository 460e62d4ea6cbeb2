import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { resolvers } from './resolvers/index.js';
/** schema/ sits beside src/ and dist/, so one relative path serves both the sources and the build. */
const SCHEMA_DIR = fileURLToPath(new URL('../schema/', import.meta.url));
export function loadTypeDefs(dir = SCHEMA_DIR) {
    return readdirSync(dir)
        .filter((f) => f.endsWith('.graphql'))
        .sort()
        .map((f) => readFileSync(dir + f, 'utf8'));
}
export function buildSchema() {
    return makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers });
}
//# sourceMappingURL=schema.js.map