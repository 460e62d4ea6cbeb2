import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) builds; Node loads the CJS one for Apollo Server,
    // Vite would pick the ESM one for our sources, and two copies break `instanceof GraphQLError`.
    // Point both at the file Node itself uses, so the tests run the module graph production runs.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Brings a real redis-server and a Chromium for the tests that need them (see the file).
    globalSetup: ['test/setup/services.ts'],
    testTimeout: 15_000,
    hookTimeout: 15_000,
    pool: 'forks',
  },
});
