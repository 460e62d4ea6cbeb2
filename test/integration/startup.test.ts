import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CREDENTIALS, SEED_VISITOR_ID } from '../../src/demo/visitors.js';
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
});
