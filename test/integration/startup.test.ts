import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CREDENTIALS, DEMO_LIMITED_CREDENTIALS, FULL_VISITOR_ID, SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import { ensureBuilt, spawnGateway, waitFor } from '../helpers/process.js';

describe('start-up', () => {
  beforeAll(() => ensureBuilt(), 60_000);

  it.each([
    ['ftp://chat.example.org', 'ROCKETCHAT_URL'],
    ['not a url', 'ROCKETCHAT_URL'],
    ['https://user:pw@chat.example.org', 'ROCKETCHAT_URL'],
  ])('refuses ROCKETCHAT_URL=%j with exit code 1 and a message naming the variable', async (value, name) => {
    const proc = spawnGateway({ ROCKETCHAT_URL: value, PORT: '0', LOG_LEVEL: 'silent' });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toContain(name);
    expect(proc.stdout()).not.toContain('GraphQL at');
  });

  it('refuses a bad PORT the same way', async () => {
    const proc = spawnGateway({ PORT: 'eighty', LOG_LEVEL: 'silent' });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toContain('PORT');
  });

  it('without ROCKETCHAT_URL starts the demo upstream, prints URL, credentials and curl, and serves the seed', async () => {
    const proc = spawnGateway({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
    try {
      await waitFor(proc.stdout, /-d '.*'\n/);
      expect(proc.stdout()).toContain(DEMO_CREDENTIALS.authToken);
      expect(proc.stdout()).toContain(DEMO_CREDENTIALS.userId);
      expect(proc.stdout()).toContain('curl');
      const url = /GraphQL at (http:\/\/\S+\/graphql)/.exec(proc.stdout())![1]!;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-auth-token': DEMO_CREDENTIALS.authToken, 'x-user-id': DEMO_CREDENTIALS.userId },
        body: JSON.stringify({ query: `{ visitor(id: "${SEED_VISITOR_ID}") { id username } }` }),
      });
      expect(await res.json()).toEqual({ data: { visitor: { id: SEED_VISITOR_ID, username: 'guest-19' } } });
    } finally {
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
    }
  });

  it('DEMO_RATE_LIMIT=2/60 turns on the demo limiter: the third call of a window is RATE_LIMITED, and the gateway remembers the window', async () => {
    const proc = spawnGateway({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', DEMO_RATE_LIMIT: '2/60' });
    try {
      await waitFor(proc.stdout, /-d '.*'\n/);
      expect(proc.stdout()).toContain('Demo rate limit: 2 calls per 60 s');
      // The second demo user is printed too, for trying FORBIDDEN.
      expect(proc.stdout()).toContain(DEMO_LIMITED_CREDENTIALS.userId);
      const url = /GraphQL at (http:\/\/\S+\/graphql)/.exec(proc.stdout())![1]!;
      const ask = async (id: string) => {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-auth-token': DEMO_CREDENTIALS.authToken, 'x-user-id': DEMO_CREDENTIALS.userId },
          body: JSON.stringify({ query: `{ visitor(id: "${id}") { id } }` }),
        });
        return { res, body: (await res.json()) as { data?: unknown; errors?: Array<{ extensions: { code: string; retryAfter?: number } }> } };
      };
      expect((await ask(SEED_VISITOR_ID)).body.errors).toBeUndefined();
      expect((await ask(FULL_VISITOR_ID)).body.errors).toBeUndefined();
      // The demo's 429 (or the gateway's knowledge of the spent window) answers RATE_LIMITED with when to come back.
      const third = await ask(SEED_VISITOR_ID);
      expect(third.body.errors?.[0]?.extensions.code).toBe('RATE_LIMITED');
      expect(third.body.errors?.[0]?.extensions.retryAfter).toBeGreaterThan(50);
      expect(Number(third.res.headers.get('retry-after'))).toBeGreaterThan(50);
    } finally {
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
    }
  });

  it.each([
    ['2', 'calls/seconds'],
    ['0/60', '1 to 1000000 calls'],
    ['10/0', '1 to 86400 seconds'],
  ])('refuses DEMO_RATE_LIMIT=%j naming what is allowed', async (value, allowed) => {
    const proc = spawnGateway({ PORT: '0', LOG_LEVEL: 'silent', DEMO_RATE_LIMIT: value });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toContain('DEMO_RATE_LIMIT');
    expect(proc.stderr()).toContain(allowed);
  });

  it('DEMO_RATE_LIMIT with ROCKETCHAT_URL set cannot apply, and stops start-up', async () => {
    const proc = spawnGateway({ ROCKETCHAT_URL: 'http://127.0.0.1:9', PORT: '0', LOG_LEVEL: 'silent', DEMO_RATE_LIMIT: '10/60' });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toContain('DEMO_RATE_LIMIT: applies to the embedded demo only');
  });

  it('in production the banner offers no explorer: the production landing page has none', async () => {
    const proc = spawnGateway({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', NODE_ENV: 'production' });
    try {
      await waitFor(proc.stdout, /-d '.*'\n/);
      expect(proc.stdout()).toMatch(/GraphQL at http:\/\/\S+\/graphql\n/);
      expect(proc.stdout()).not.toContain('Sandbox');
    } finally {
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
    }
  });
});
