import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 15_000,
    hookTimeout: 15_000,
    // Two cores: servers on loopback in every file; forks keep each file's sockets and timers apart.
    pool: 'forks',
  },
});
