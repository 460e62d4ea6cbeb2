import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import { DEMO_HEADERS } from '../helpers/gateway.js';
import { needsRedis, NO_REDIS, startRedis } from '../helpers/process.js';
import { sleep } from '../helpers/promises.js';
import { useServers } from '../helpers/servers.js';

const servers = useServers();
const ONE = { query: `{ visitor(id: "${SEED_VISITOR_ID}") { id } }` };
const TWO = { query: `query($ids: [ID!]!) { visitors(ids: $ids) { id } }`, variables: { ids: [SEED_VISITOR_ID, 'x1'] } };

/** Waits until `n` connections listen on the gateway's rate-limit channel. */
async function subscribers(redisUrl: string, n: number): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    for (let i = 0; i < 100; i++) {
      const [, count] = (await redis.pubsub('NUMSUB', 'lvg:v1:ratelimits')) as [string, number];
      if (count >= n) return;
      await sleep(20);
    }
    throw new Error(`fewer than ${n} subscribers`);
  } finally {
    redis.disconnect();
  }
}

describe.skipIf(!!NO_REDIS)(needsRedis('replicas share what Rocket.Chat says of its rate-limit windows (REDIS_URL)'), () => {
  it('a second replica does not spend calls the first already knows will be refused', async () => {
    const redis = await startRedis();
    servers.later(() => redis.stop());
    const upstream = await servers.demo({ record: true, rateLimit: { limit: 3, windowMs: 60_000 } });
    const first = await servers.gateway(upstream.url, { REDIS_URL: redis.url });
    const second = await servers.gateway(upstream.url, { REDIS_URL: redis.url });
    await subscribers(redis.url, 2);

    // The first replica spends the bucket (the test client is 127.0.0.1 to both, so one bucket).
    for (let i = 0; i < 3; i++) expect((await first.post(ONE, DEMO_HEADERS)).body.errors).toBeUndefined();
    expect(upstream.calls).toBe(3);
    await sleep(100);

    // The second has never called Rocket.Chat, yet knows the bucket is spent.
    const refused = await second.post(ONE, DEMO_HEADERS);
    expect(refused.status).toBe(429);
    expect(refused.body.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(refused.body.errors![0]!.extensions!.retryAfter).toBeGreaterThan(50);
    expect(upstream.calls).toBe(3);
  });

  it('an operation that would not fit in what another replica saw left is refused up front', async () => {
    const redis = await startRedis();
    servers.later(() => redis.stop());
    const upstream = await servers.demo({ record: true, rateLimit: { limit: 2, windowMs: 60_000 } });
    const first = await servers.gateway(upstream.url, { REDIS_URL: redis.url });
    const second = await servers.gateway(upstream.url, { REDIS_URL: redis.url });
    await subscribers(redis.url, 2);

    expect((await first.post(ONE, DEMO_HEADERS)).body.errors).toBeUndefined();
    await sleep(100);
    const refused = await second.post(TWO, DEMO_HEADERS);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(50);
    expect(upstream.calls).toBe(1);
  });

  it('garbage on the channel changes nothing, and a replica without Redis still serves', async () => {
    const redis = await startRedis();
    servers.later(() => redis.stop());
    const upstream = await servers.demo({ record: true, rateLimit: { limit: 5, windowMs: 60_000 } });
    const gateway = await servers.gateway(upstream.url, { REDIS_URL: redis.url });
    await subscribers(redis.url, 1);
    const publisher = new Redis(redis.url);
    for (const text of [
      'not json',
      'null',
      '{"bucket":5}',
      JSON.stringify({ from: 'x', bucket: 'a'.repeat(5000), resetAt: Date.now() + 60_000, remaining: 0 }),
    ]) {
      await publisher.publish('lvg:v1:ratelimits', text);
    }
    // A well-formed window for another bucket must not touch this caller's.
    await publisher.publish('lvg:v1:ratelimits', JSON.stringify({ from: 'x', bucket: '10.9.9.9|someone', resetAt: Date.now() + 60_000, remaining: 0 }));
    publisher.disconnect();
    await sleep(100);
    expect((await gateway.post(ONE, DEMO_HEADERS)).body.errors).toBeUndefined();
    expect(upstream.calls).toBe(1);

    await redis.stop();
    expect((await gateway.post(ONE, DEMO_HEADERS)).body.errors).toBeUndefined();
    expect(upstream.calls).toBe(2);
  });
});
