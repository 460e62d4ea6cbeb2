import { describe, expect, it } from 'vitest';
import { DEMO_DEPARTMENTS, SALES_DEPARTMENT_ID } from '../../../src/demo/departments.js';
import { GatewayError } from '../../../src/errors.js';
import { parseDepartmentList } from '../../../src/rocketchat/validate.js';

/** NEIGHBOURS.md's example department, verbatim (`departmentsAllowedToForward` as `""`). */
const NEIGHBOURS_EXAMPLE = {
  _id: '4LCeYmCHHnQ3EDBgf',
  enabled: true,
  name: 'Chatbot Sales',
  description: '',
  showOnRegistration: false,
  showOnOfflineForm: false,
  requestTagBeforeClosingChat: false,
  email: 'chatbotSales@example.com',
  chatClosingTags: [],
  offlineMessageChannelName: '',
  departmentsAllowedToForward: '',
  _updatedAt: '2021-07-15T15:11:16.856Z',
  numAgents: 4,
  ancestors: [],
};

const list = (...departments: unknown[]) => ({ departments, success: true });
const withField = (patch: Record<string, unknown>) => list({ ...NEIGHBOURS_EXAMPLE, ...patch });

function thrown(fn: () => unknown): GatewayError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(GatewayError);
  return caught as GatewayError;
}

describe('parseDepartmentList: valid answers', () => {
  it('NEIGHBOURS.md’s example passes and comes back unchanged', () => {
    const departments = parseDepartmentList(200, {}, list(structuredClone(NEIGHBOURS_EXAMPLE)));
    expect(departments).toStrictEqual([NEIGHBOURS_EXAMPLE]);
  });

  it('every demo department passes, in the order sent', () => {
    const body = JSON.parse(JSON.stringify({ departments: DEMO_DEPARTMENTS, success: true })) as unknown;
    expect(parseDepartmentList(200, {}, body)).toStrictEqual([...DEMO_DEPARTMENTS]);
  });

  it.each<[string, Record<string, unknown>]>([
    ['departmentsAllowedToForward as ""', { departmentsAllowedToForward: '' }],
    ['departmentsAllowedToForward as string[]', { departmentsAllowedToForward: [SALES_DEPARTMENT_ID] }],
    ['maxNumberSimultaneousChat as ""', { maxNumberSimultaneousChat: '' }],
    ['maxNumberSimultaneousChat as a number', { maxNumberSimultaneousChat: 5 }],
    ['ancestors as null', { ancestors: null }],
    ['parentId as null', { parentId: null }],
    ['parentId as a string', { parentId: 'pArEnTuNiT00001' }],
    ['unknown extra keys', { futureField: { nested: [1, 2, { deep: true }] }, anotherOne: 42, _hidden: null }],
  ])('accepts %s (a field the gateway does not read), keeping it', (_label, patch) => {
    const [department] = parseDepartmentList(200, {}, withField(patch));
    expect(department).toStrictEqual({ ...NEIGHBOURS_EXAMPLE, ...patch });
  });

  it('accepts only an _id, an empty list, and an unknown top-level key', () => {
    expect(parseDepartmentList(200, {}, list({ _id: 'oNlYaNiD' }))).toStrictEqual([{ _id: 'oNlYaNiD' }]);
    expect(parseDepartmentList(200, {}, list())).toStrictEqual([]);
    expect(parseDepartmentList(200, {}, { ...list({ _id: 'x1' }), total: 1 })).toStrictEqual([{ _id: 'x1' }]);
  });

  it('accepts an archived department and a date with an offset', () => {
    const [department] = parseDepartmentList(200, {}, withField({ archived: true, enabled: false, _updatedAt: '2021-07-15T17:11:16+02:00' }));
    expect(department).toMatchObject({ archived: true, enabled: false, _updatedAt: '2021-07-15T17:11:16+02:00' });
  });
});

describe('parseDepartmentList: wrong shapes → UPSTREAM_BAD_RESPONSE', () => {
  const { _id: _dropped, ...withoutId } = NEIGHBOURS_EXAMPLE;

  it.each<[string, unknown]>([
    ['a department without _id', list(withoutId)],
    ['an empty _id', withField({ _id: '' })],
    ['_id as a number', withField({ _id: 42 })],
    ['name as a number', withField({ name: 7 })],
    ['enabled as a string', withField({ enabled: 'true' })],
    ['archived as a number', withField({ archived: 1 })],
    ['numAgents as a string', withField({ numAgents: '4' })],
    ['chatClosingTags with a number', withField({ chatClosingTags: ['ok', 3] })],
    ['_updatedAt not a date', withField({ _updatedAt: 'yesterday' })],
    ['_updatedAt on a day that does not exist', withField({ _updatedAt: '2021-02-30T00:00:00.000Z' })],
    ['_updatedAt as an object (a Mongo $date)', withField({ _updatedAt: { $date: '2021-07-15T15:11:16.856Z' } })],
    ['a department that is not an object', list('4LCeYmCHHnQ3EDBgf')],
    ['a null department', list(null)],
    ['departments not an array', { departments: { 0: NEIGHBOURS_EXAMPLE }, success: true }],
    ['departments as null', { departments: null, success: true }],
    ['departments missing', { success: true }],
    ['success missing', { departments: [NEIGHBOURS_EXAMPLE] }],
    ['success as "true"', { departments: [NEIGHBOURS_EXAMPLE], success: 'true' }],
    ['no body', undefined],
    ['a body that is an array', [NEIGHBOURS_EXAMPLE]],
  ])('%s', (_label, body) => {
    const err = thrown(() => parseDepartmentList(200, {}, body));
    expect(err.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(err.extensions.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(err.extensions.upstream).toStrictEqual({ status: 200, error: null });
    expect(err.retryable).toBe(false);
  });

  it('names where the shape broke, never the offending value', () => {
    const err = thrown(() => parseDepartmentList(200, {}, list(NEIGHBOURS_EXAMPLE, { ...NEIGHBOURS_EXAMPLE, name: 9_876_543 })));
    expect(err.message).toContain('departments.1.name');
    expect(err.message).not.toContain('9876543');
    const missing = thrown(() => parseDepartmentList(200, {}, list(withoutId)));
    expect(missing.message).toContain('departments.0._id');
    const date = thrown(() => parseDepartmentList(200, {}, withField({ _updatedAt: 'sEcReTdAtE' })));
    expect(date.message).toContain('departments.0._updatedAt is not a valid date-time');
    expect(date.message).not.toContain('sEcReTdAtE');
  });
});

describe('parseDepartmentList: parameters the gateway built', () => {
  it("an invalid-params refusal is the gateway's UPSTREAM_ERROR, not the caller's BAD_USER_INPUT", () => {
    let caught: unknown;
    try {
      parseDepartmentList(400, {}, { success: false, error: "must have required property 'ids' [invalid-params]", errorType: 'invalid-params' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GatewayError);
    expect((caught as GatewayError).code).toBe('UPSTREAM_ERROR');
  });
});

describe('parseDepartmentList: refusals go to the catalogue', () => {
  it.each<[number, unknown, string]>([
    [400, { success: false, error: 'User does not have the permissions required for this action' }, 'FORBIDDEN'],
    [400, { success: false, error: 'User does not have the permissions required for this action [error-unauthorized]' }, 'FORBIDDEN'],
    [403, { success: false, error: 'User does not have the permissions required for this action [error-unauthorized]' }, 'FORBIDDEN'],
    [403, { success: false, error: 'User does not have the permissions required for this action [error-forbidden]' }, 'FORBIDDEN'],
    [403, undefined, 'FORBIDDEN'],
    [401, { status: 'error', message: 'You must be logged in to do this.' }, 'UNAUTHENTICATED'],
    [401, { success: false, error: 'You must be logged in to do this.', status: 'error', message: 'You must be logged in to do this.' }, 'UNAUTHENTICATED'],
    [400, { success: false, error: "The 'ids' param is required" }, 'UPSTREAM_ERROR'],
    [400, { success: false, error: "The 'ids' param must be an array" }, 'UPSTREAM_ERROR'],
    [400, { success: false, error: 'Invalid query parameters' }, 'UPSTREAM_ERROR'],
    [200, { success: false, error: 'something went wrong' }, 'UPSTREAM_BAD_RESPONSE'],
    [200, { success: false, departments: [] }, 'UPSTREAM_BAD_RESPONSE'],
    [500, { success: false, error: 'Internal server error' }, 'UPSTREAM_UNAVAILABLE'],
    [500, undefined, 'UPSTREAM_UNAVAILABLE'],
    [503, undefined, 'UPSTREAM_UNAVAILABLE'],
    [429, { success: false, error: 'Error, too many requests. [error-too-many-requests]' }, 'RATE_LIMITED'],
  ])('%i %j → %s', (status, body, code) => {
    const err = thrown(() => parseDepartmentList(status, {}, body));
    expect(err.code).toBe(code);
    expect(err.extensions.upstream).toMatchObject({ status });
  });

  it('FORBIDDEN names the department route’s permissions, not visitors.info’s alone', () => {
    for (const [status, body] of [
      [403, { success: false, error: 'User does not have the permissions required for this action [error-unauthorized]' }],
      [400, { success: false, error: 'User does not have the permissions required for this action' }],
    ] as const) {
      const err = thrown(() => parseDepartmentList(status, {}, body));
      expect(err.message).toContain('view-livechat-departments or view-l-room');
    }
  });

  it('keeps Rocket.Chat’s error string, and only for the failures that carry one', () => {
    const err = thrown(() => parseDepartmentList(400, {}, { success: false, error: "The 'ids' param is required" }));
    expect(err.extensions.upstream).toStrictEqual({ status: 400, error: "The 'ids' param is required" });
    const ok200 = thrown(() => parseDepartmentList(200, {}, { success: false, error: 'nope' }));
    expect(ok200.extensions.upstream).toStrictEqual({ status: 200, error: 'nope' });
  });

  it('a department-shaped body under an error status is still the error', () => {
    expect(thrown(() => parseDepartmentList(500, {}, list(NEIGHBOURS_EXAMPLE))).code).toBe('UPSTREAM_UNAVAILABLE');
    expect(thrown(() => parseDepartmentList(403, {}, list(NEIGHBOURS_EXAMPLE))).code).toBe('FORBIDDEN');
  });

  it('500 is retryable and a fault of Rocket.Chat’s; the refusals are neither', () => {
    const unavailable = thrown(() => parseDepartmentList(500, {}, undefined));
    expect(unavailable.retryable).toBe(true);
    expect(unavailable.upstreamFault).toBe(true);
    for (const status of [400, 401, 403]) {
      const refusal = thrown(() => parseDepartmentList(status, {}, { success: false, error: 'x' }));
      expect(refusal.retryable).toBe(false);
      expect(refusal.upstreamFault).toBe(false);
    }
  });

  it('429 takes retryAfter from the headers it is given', () => {
    const now = Date.now();
    const err = thrown(() => parseDepartmentList(429, { 'x-ratelimit-reset': String(now + 30_000) }, { success: false, error: 'slow down' }));
    expect(err.code).toBe('RATE_LIMITED');
    expect(err.retryAfter).toBeGreaterThanOrEqual(29);
    expect(err.retryAfter).toBeLessThanOrEqual(30);
    expect(thrown(() => parseDepartmentList(429, { 'retry-after': '12' }, undefined)).retryAfter).toBe(12);
  });
});
