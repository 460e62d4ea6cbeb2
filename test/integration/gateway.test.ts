import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../../src/demo/upstream.js';
import { DEMO_LIMITED_CREDENTIALS, FULL_VISITOR_ID, MINIMAL_VISITOR_ID, SEED_VISITOR_ID, V85_VISITOR_ID } from '../../src/demo/visitors.js';
import { DEMO_HEADERS, startTestGateway, VISITOR_FIELDS, type TestGateway } from '../helpers/gateway.js';

const LIMITED_HEADERS = {
  'x-auth-token': DEMO_LIMITED_CREDENTIALS.authToken,
  'x-user-id': DEMO_LIMITED_CREDENTIALS.userId,
};

describe('gateway over the demo upstream', () => {
  let upstream: DemoUpstream;
  let gateway: TestGateway;

  beforeAll(async () => {
    upstream = await startDemoUpstream({ record: true });
    gateway = await startTestGateway(upstream.url);
  });
  afterAll(async () => {
    await gateway.stop();
    await upstream.stop();
  });
  beforeEach(() => upstream.reset());

  it('answers the seed visitor mapped to schema names, exactly as BEHAVIOR.md shows it', async () => {
    const res = await gateway.post({ query: `query($id: ID!) { visitor(id: $id) { ${VISITOR_FIELDS} } }`, variables: { id: SEED_VISITOR_ID } }, DEMO_HEADERS);
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.visitor).toEqual({
      id: '642fc15452492a08c3a756de',
      username: 'guest-19',
      name: 'Livechat Visitor',
      status: 'ONLINE',
      createdAt: '2023-04-07T07:08:04.375Z',
      updatedAt: '2023-11-03T08:23:23.449Z',
      token: 'iNKE8a6k6cjbqWhWd',
      departmentId: '64181a0728384134ed600dcc',
      phones: [{ phoneNumber: '55 51 5555-5555' }],
      emails: [{ address: 'visitor@example.com' }],
      lastChat: { id: 'sEeDcHaT23NoV0317', startedAt: '2023-11-03T08:10:02.118Z' },
      lastAgent: null,
      contactManager: null,
      customFields: null,
      externalIds: [],
      userAgent: null,
      ip: null,
      host: null,
      activity: [],
      disabled: null,
    });
    expect(upstream.calls).toBe(1);
  });

  it('forwards exactly the caller credentials and request id, and nothing else the caller sent', async () => {
    await gateway.post(
      { query: `{ visitor(id: "${SEED_VISITOR_ID}") { id } }` },
      {
        ...DEMO_HEADERS,
        'x-request-id': 'req-abc-123',
        authorization: 'Bearer should-not-travel',
        cookie: 'session=should-not-travel',
        'x-forwarded-for': '203.0.113.9',
        'x-custom': 'nope',
      },
    );
    expect(upstream.requests).toHaveLength(1);
    const sent = upstream.requests[0]!;
    expect(sent.method).toBe('GET');
    expect(sent.path).toBe('/api/v1/livechat/visitors.info');
    expect(sent.query).toEqual({ visitorId: SEED_VISITOR_ID });
    expect(sent.headers['x-auth-token']).toBe(DEMO_HEADERS['x-auth-token']);
    expect(sent.headers['x-user-id']).toBe(DEMO_HEADERS['x-user-id']);
    expect(sent.headers['x-request-id']).toBe('req-abc-123');
    for (const h of ['authorization', 'cookie', 'x-forwarded-for', 'x-custom', 'content-type']) {
      expect(sent.headers[h], h).toBeUndefined();
    }
  });

  it('echoes a valid X-Request-Id and replaces an invalid one', async () => {
    const kept = await gateway.post({ query: '{ __typename }' }, { 'x-request-id': 'abc-123' });
    expect(kept.headers.get('x-request-id')).toBe('abc-123');
    const replaced = await gateway.post({ query: '{ __typename }' }, { 'x-request-id': 'bad id with spaces' });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('costs one upstream call for the same id asked five times in one operation', async () => {
    const query = `{ ${[1, 2, 3, 4, 5].map((n) => `v${n}: visitor(id: "${SEED_VISITOR_ID}") { id name }`).join(' ')} }`;
    const res = await gateway.post({ query }, DEMO_HEADERS);
    expect(res.body.errors).toBeUndefined();
    expect(Object.values(res.body.data!).every((v) => v.id === SEED_VISITOR_ID)).toBe(true);
    expect(upstream.calls).toBe(1);
  });

  it('batches distinct ids into parallel calls, one per id', async () => {
    const ids = [SEED_VISITOR_ID, FULL_VISITOR_ID, MINIMAL_VISITOR_ID, V85_VISITOR_ID];
    const res = await gateway.post({ query: `query($ids: [ID!]!) { visitors(ids: $ids) { id } }`, variables: { ids: [...ids, ...ids] } }, DEMO_HEADERS);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.visitors.map((v: { id: string }) => v.id)).toEqual([...ids, ...ids]);
    expect(upstream.calls).toBe(4);
  });

  it('returns partial data from visitors(ids): a null and a coded error at each failed index', async () => {
    const res = await gateway.post(
      {
        query: `query($ids: [ID!]!) { visitors(ids: $ids) { id } }`,
        variables: { ids: [SEED_VISITOR_ID, 'doesNotExist00001', 'bad id!', FULL_VISITOR_ID] },
      },
      DEMO_HEADERS,
    );
    expect(res.status).toBe(200);
    expect(res.body.data!.visitors).toEqual([{ id: SEED_VISITOR_ID }, null, null, { id: FULL_VISITOR_ID }]);
    const byPath = Object.fromEntries(res.body.errors!.map((e) => [e.path!.join('.'), e.extensions!.code]));
    expect(byPath).toEqual({ 'visitors.1': 'NOT_FOUND', 'visitors.2': 'BAD_USER_INPUT' });
    // The malformed id never went upstream.
    expect(upstream.calls).toBe(3);
  });

  it('answers NOT_FOUND with a null visitor for an unknown id, with the request id on the error', async () => {
    const res = await gateway.post({ query: `{ visitor(id: "doesNotExist00001") { id } }` }, DEMO_HEADERS);
    expect(res.body.errors![0]!.extensions!.requestId).toBe(res.headers.get('x-request-id'));
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ visitor: null });
    expect(res.body.errors![0]!.extensions).toMatchObject({
      code: 'NOT_FOUND',
      upstream: { status: 400, error: 'visitor-not-found' },
    });
    expect(res.body.errors![0]!.extensions!.stacktrace).toBeUndefined();
  });

  it('refuses missing credentials with UNAUTHENTICATED and zero upstream calls', async () => {
    const res = await gateway.post({ query: `{ visitor(id: "${SEED_VISITOR_ID}") { id } }` });
    expect(res.body.data).toEqual({ visitor: null });
    expect(res.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect(upstream.calls).toBe(0);
  });

  it('refuses malformed credentials (control characters, over 512 characters) with zero upstream calls', async () => {
    const tooLong = await gateway.post(
      { query: `{ visitor(id: "${SEED_VISITOR_ID}") { id } }` },
      {
        ...DEMO_HEADERS,
        'x-auth-token': 'a'.repeat(513),
      },
    );
    expect(tooLong.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    const tab = await gateway.post(
      { query: `{ visitor(id: "${SEED_VISITOR_ID}") { id } }` },
      {
        ...DEMO_HEADERS,
        'x-user-id': 'rbAX\tPnMktTFbNpwtJ',
      },
    );
    expect(tab.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect(upstream.calls).toBe(0);
  });

  it.each(['', 'has space', 'a'.repeat(65), '../../api/info', 'id?visitorId=x', 'é'])(
    'refuses the id %j with BAD_USER_INPUT and zero upstream calls',
    async (id) => {
      const res = await gateway.post({ query: `query($id: ID!) { visitor(id: $id) { id } }`, variables: { id } }, DEMO_HEADERS);
      expect(res.body.data).toEqual({ visitor: null });
      expect(res.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
      expect(upstream.calls).toBe(0);
    },
  );

  it('refuses visitors(ids) over MAX_IDS with zero upstream calls', async () => {
    const ids = Array.from({ length: gateway.config.maxIds + 1 }, (_, i) => `visitor${i}`);
    const res = await gateway.post({ query: `query($ids: [ID!]!) { visitors(ids: $ids) { id } }`, variables: { ids } }, DEMO_HEADERS);
    expect(res.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(upstream.calls).toBe(0);
  });

  it('answers 401 from Rocket.Chat as UNAUTHENTICATED', async () => {
    const res = await gateway.post(
      { query: `{ visitor(id: "${SEED_VISITOR_ID}") { id } }` },
      {
        'x-auth-token': 'wrongTokenWrongTokenWrongToken',
        'x-user-id': DEMO_HEADERS['x-user-id'],
      },
    );
    expect(res.body.errors![0]!.extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
      upstream: { status: 401, error: 'You must be logged in to do this.' },
    });
    expect(upstream.calls).toBe(1);
  });

  it('answers 403 for a user without view-l-room as FORBIDDEN', async () => {
    const res = await gateway.post({ query: `{ visitor(id: "${SEED_VISITOR_ID}") { id } }` }, LIMITED_HEADERS);
    expect(res.body.data).toEqual({ visitor: null });
    expect(res.body.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', upstream: { status: 403 } });
  });

  it('keeps two concurrent callers apart: each sees only its own result', async () => {
    const query = { query: `query($ids: [ID!]!) { visitors(ids: $ids) { id name } }`, variables: { ids: [SEED_VISITOR_ID, FULL_VISITOR_ID] } };
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => gateway.post(query, i % 2 === 0 ? DEMO_HEADERS : LIMITED_HEADERS)));
    runs.forEach((res, i) => {
      if (i % 2 === 0) {
        expect(res.body.errors).toBeUndefined();
        expect(res.body.data!.visitors.map((v: { id: string }) => v.id)).toEqual([SEED_VISITOR_ID, FULL_VISITOR_ID]);
      } else {
        expect(res.body.data!.visitors).toEqual([null, null]);
        expect(res.body.errors!.map((e) => e.extensions!.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
      }
    });
    // Concurrent operations of one caller may share calls, but each caller's calls carry its own token.
    const tokens = new Set(upstream.requests.map((r) => r.headers['x-auth-token']));
    expect(tokens).toEqual(new Set([DEMO_HEADERS['x-auth-token'], LIMITED_HEADERS['x-auth-token']]));
  });

  it('serves introspection outside production without credentials or upstream calls', async () => {
    const res = await gateway.post({ query: '{ __type(name: "Visitor") { fields { name description } } }' });
    const fields = res.body.data!.__type.fields as { name: string; description: string }[];
    expect(fields.length).toBe(23);
    expect(fields.every((f) => f.description && f.description.length > 0)).toBe(true);
    expect(upstream.calls).toBe(0);
  });
});
