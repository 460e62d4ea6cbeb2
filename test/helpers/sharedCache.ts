import { sleep } from './promises.js';
import { startRedis } from './process.js';
import type { TestGateway } from './gateway.js';

/** What `useServers()` gives a helper: somewhere to stop what it started. */
interface Later {
  later(cleanup: () => Promise<void>): void;
}

/**
 * The environment of a gateway with the shared cache on, in process memory or in a redis-server of
 * its own (stopped after the test).
 */
export async function sharedCacheEnv(servers: Later, store: 'memory' | 'redis', recheckMs: number): Promise<Record<string, string>> {
  const env: Record<string, string> = { CACHE_TTL_MS: '60000', CACHE_RECHECK_MS: String(recheckMs) };
  if (store === 'redis') {
    const redis = await startRedis();
    servers.later(() => redis.stop());
    env.REDIS_URL = redis.url;
    // Not a test of the deadline (cache-redis.test.ts is): a busy machine must not make a hit a miss.
    env.REDIS_TIMEOUT_MS = '1000';
  }
  return env;
}

/** ioredis connects in the background: resolves once the gateway's /readyz has seen Redis answer. */
export async function untilCacheReady(gateway: TestGateway): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ready = (await (await fetch(gateway.url.replace('/graphql', '/readyz'))).json()) as { cache?: string };
    if (ready.cache === 'ok') return;
    await sleep(20);
  }
  throw new Error('/readyz never said "cache":"ok"');
}
