import { describe, expect, it } from 'vitest';
import { DEMO_VISITORS, FULL_VISITOR_ID, SEED_VISITOR_ID, V85_VISITOR_ID } from '../../../src/demo/visitors.js';
import { GatewayError } from '../../../src/errors.js';
import { parseVisitorsInfo } from '../../../src/rocketchat/validate.js';
import { BEHAVIOR_SEED_BODY } from '../../helpers/behavior.js';

/** BEHAVIOR.md's example answer, verbatim. */
const SEED_BODY = BEHAVIOR_SEED_BODY;

function seedWith(patch: Record<string, unknown>): Record<string, unknown> {
  return { ...SEED_BODY, visitor: { ...SEED_BODY.visitor, ...patch } };
}

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

describe('parseVisitorsInfo: valid answers', () => {
  it('the seed body passes and returns the visitor', () => {
    const visitor = parseVisitorsInfo(200, {}, structuredClone(SEED_BODY));
    expect(visitor).toStrictEqual(SEED_BODY.visitor);
    expect(visitor._id).toBe(SEED_VISITOR_ID);
  });

  it.each(DEMO_VISITORS.map((v) => [v._id, v] as const))('demo visitor %s passes unchanged', (_id, v) => {
    expect(parseVisitorsInfo(200, {}, { visitor: structuredClone(v), success: true })).toStrictEqual(v);
  });

  it('keeps unknown extra fields, at the top and nested', () => {
    const body = {
      ...seedWith({
        futureField: { a: 1 },
        lastChat: { _id: 'rOoM1', ts: '2024-01-01T00:00:00.000Z', extra: 'kept' },
      }),
      newTopLevel: 'ignored-but-harmless',
    };
    const visitor = parseVisitorsInfo(200, {}, body) as unknown as Record<string, unknown>;
    expect(visitor.futureField).toStrictEqual({ a: 1 });
    expect(visitor.lastChat).toStrictEqual({ _id: 'rOoM1', ts: '2024-01-01T00:00:00.000Z', extra: 'kept' });
  });

  it('accepts a minimal visitor (only _id), a null phone and an unknown status string', () => {
    expect(parseVisitorsInfo(200, {}, { visitor: { _id: 'x1' }, success: true })).toStrictEqual({ _id: 'x1' });
    expect(parseVisitorsInfo(200, {}, seedWith({ phone: null })).phone).toBeNull();
    expect(parseVisitorsInfo(200, {}, seedWith({ status: 'invisible' })).status).toBe('invisible');
  });

  it('accepts dates with an offset and without milliseconds', () => {
    expect(parseVisitorsInfo(200, {}, seedWith({ ts: '2023-04-07T09:08:04+02:00' })).ts).toBe('2023-04-07T09:08:04+02:00');
  });

  it('accepts the full and 8.5 fixtures field for field', () => {
    for (const id of [FULL_VISITOR_ID, V85_VISITOR_ID]) {
      const v = DEMO_VISITORS.find((x) => x._id === id);
      expect(parseVisitorsInfo(200, {}, { success: true, visitor: v })).toStrictEqual(v);
    }
  });
});

describe('parseVisitorsInfo: wrong shapes → UPSTREAM_BAD_RESPONSE', () => {
  it.each<[string, unknown]>([
    ['no visitor', { success: true }],
    ['visitor null', { success: true, visitor: null }],
    ['_id a number', seedWith({ _id: 12345 })],
    ['_id empty', seedWith({ _id: '' })],
    ['phone a string', seedWith({ phone: '55 51 5555-5555' })],
    ['phone items without phoneNumber', seedWith({ phone: [{ number: '1' }] })],
    ['bad date in ts', seedWith({ ts: 'yesterday' })],
    ['impossible date in _updatedAt', seedWith({ _updatedAt: '2023-13-45T99:00:00.000Z' })],
    ['visitorEmails not an array', seedWith({ visitorEmails: { address: 'visitor@example.com' } })],
    ['externalIds items without entityId', seedWith({ externalIds: [{ appId: 'a' }] })],
    ['lastAgent without agentId', seedWith({ lastAgent: { username: 'x' } })],
    ['livechatData an array', seedWith({ livechatData: ['a'] })],
    ['activity of numbers', seedWith({ activity: [2024] })],
    ['disabled a string', seedWith({ disabled: 'false' })],
    ['success missing', { visitor: SEED_BODY.visitor }],
    ['success a string', { visitor: SEED_BODY.visitor, success: 'true' }],
    ['a JSON array', [SEED_BODY]],
    ['a string', 'OK'],
    ['null', null],
    ['no body', undefined],
  ])('%s', (_label, body) => {
    const err = thrown(() => parseVisitorsInfo(200, {}, body));
    expect(err.extensions.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(err.extensions.upstream).toStrictEqual({ status: 200, error: null });
    expect(err.retryable).toBe(false);
  });

  it('names where the shape broke, without repeating the offending value', () => {
    const err = thrown(() => parseVisitorsInfo(200, {}, seedWith({ phone: 'SECRET-PHONE-VALUE' })));
    expect(err.message).toContain('visitor.phone');
    expect(JSON.stringify({ m: err.message, e: err.extensions })).not.toContain('SECRET-PHONE-VALUE');
  });

  it('200 with success:false → UPSTREAM_BAD_RESPONSE carrying Rocket.Chat’s error string', () => {
    const err = thrown(() => parseVisitorsInfo(200, {}, { success: false, error: 'visitor-not-found' }));
    expect(err.extensions.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(err.extensions.upstream).toStrictEqual({ status: 200, error: 'visitor-not-found' });
  });
});

describe('parseVisitorsInfo: dates that do not exist → UPSTREAM_BAD_RESPONSE naming the field', () => {
  it.each([
    '2024-02-30T10:00:00.000Z',
    '2024-02-31T10:00:00.000Z',
    '2023-02-29T10:00:00.000Z', // not a leap year
    '1900-02-29T10:00:00.000Z', // a century that is not a leap year
    '2100-02-29T00:00:00Z',
    '2024-04-31T10:00:00.000Z',
    '2024-06-31T10:00:00.000Z',
    '2024-09-31T10:00:00.000Z',
    '2024-11-31T10:00:00+02:00',
    '2024-00-10T10:00:00.000Z', // out of range, field by field
    '2024-01-00T10:00:00.000Z',
    '2024-01-32T10:00:00.000Z',
    '2024-01-10T24:00:00.000Z',
    '2024-01-10T10:60:00.000Z',
    '2024-12-31T23:59:60Z', // a leap second: Date has none
    '2024-01-10T10:00:00+24:00',
    '2024-01-10T10:00:00.000',
    '2024-01-10 10:00:00.000Z',
    '+02024-01-10T10:00:00.000Z',
  ])('%s', (value) => {
    for (const [field, patch] of [
      ['visitor.ts', { ts: value }],
      ['visitor._updatedAt', { _updatedAt: value }],
      ['visitor.lastChat.ts', { lastChat: { _id: 'rOoM1', ts: value } }],
      ['visitor.lastAgent.ts', { lastAgent: { agentId: 'aGeNt1', username: 'a', ts: value } }],
    ] as const) {
      const err = thrown(() => parseVisitorsInfo(200, {}, seedWith(patch)));
      expect(err.extensions.code).toBe('UPSTREAM_BAD_RESPONSE');
      expect(err.extensions.upstream).toStrictEqual({ status: 200, error: null });
      expect(err.retryable).toBe(false);
      expect(err.message).toContain(`${field} is not a valid date-time`);
      expect(JSON.stringify({ m: err.message, e: err.extensions })).not.toContain(value);
    }
  });

  it.each([
    '2024-02-29T10:00:00.000Z',
    '2000-02-29T10:00:00.000Z', // divisible by 400: a leap year
    '1600-02-29T00:00:00Z',
    '2024-01-31T23:59:59.999Z',
    '2024-03-31T00:00:00.000Z',
    '2024-04-30T00:00:00.000Z',
    '2024-05-31T00:00:00.000Z',
    '2024-07-31T00:00:00.000Z',
    '2024-08-31T00:00:00.000Z',
    '2024-10-31T00:00:00.000Z',
    '2024-12-31T23:59:59+14:00',
    '2023-02-28T00:00:00-12:00',
    '0001-01-01T00:00:00.000Z',
    '9999-12-31T23:59:59.999Z',
  ])('%s exists and passes unchanged', (value) => {
    const visitor = parseVisitorsInfo(200, {}, seedWith({ ts: value, lastChat: { _id: 'rOoM1', ts: value } }));
    expect(visitor.ts).toBe(value);
    expect(visitor.lastChat?.ts).toBe(value);
  });

  it('agrees with Date for every day of a leap and a common year', () => {
    for (const year of [2023, 2024]) {
      for (let month = 1; month <= 12; month++) {
        for (let day = 1; day <= 31; day++) {
          const value = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}T12:00:00.000Z`;
          const exists = new Date(value).toISOString() === value;
          let passed = true;
          try {
            parseVisitorsInfo(200, {}, seedWith({ ts: value }));
          } catch {
            passed = false;
          }
          expect([value, passed]).toStrictEqual([value, exists]);
        }
      }
    }
  });
});

/** `{"k":{"k":…{"k":1}…}}`, `levels` objects deep, as parsed JSON. */
function nested(levels: number, key = 'k', leaf: unknown = 1): unknown {
  return JSON.parse(`${`{${JSON.stringify(key)}:`.repeat(levels)}${JSON.stringify(leaf)}${'}'.repeat(levels)}`);
}

function depthError(patch: Record<string, unknown>, maxJsonDepth?: number): GatewayError {
  const err = thrown(() => parseVisitorsInfo(200, {}, seedWith(patch), maxJsonDepth));
  expect(err.extensions.code).toBe('UPSTREAM_BAD_RESPONSE');
  expect(err.extensions.upstream).toStrictEqual({ status: 200, error: null });
  expect(err.retryable).toBe(false);
  return err;
}

describe('parseVisitorsInfo: free-form values nested deeper than maxJsonDepth → UPSTREAM_BAD_RESPONSE', () => {
  it('livechatData 5 000 levels deep, by default (20)', () => {
    const err = depthError({ livechatData: nested(5000) });
    expect(err.message).toContain('visitor.livechatData is nested deeper than 20');
  });

  it('counts the value itself as level 1: 20 levels pass, 21 do not', () => {
    expect(parseVisitorsInfo(200, {}, seedWith({ livechatData: nested(20) })).livechatData).toStrictEqual(nested(20));
    depthError({ livechatData: nested(21) });
  });

  it('takes the limit it is given', () => {
    expect(() => parseVisitorsInfo(200, {}, seedWith({ livechatData: nested(3) }), 3)).not.toThrow();
    expect(depthError({ livechatData: nested(4) }, 3).message).toContain('visitor.livechatData is nested deeper than 3');
    expect(() => parseVisitorsInfo(200, {}, seedWith({ livechatData: nested(50) }), 50)).not.toThrow();
  });

  it('counts arrays as levels too', () => {
    const arrays = JSON.parse(`{"list":${'['.repeat(20)}1${']'.repeat(20)}}`);
    expect(depthError({ livechatData: arrays }).message).toContain('visitor.livechatData is nested deeper than 20');
    const mixed = JSON.parse(`{"a":[{"b":[{"c":[]}]}]}`); // 6 levels
    expect(() => parseVisitorsInfo(200, {}, seedWith({ livechatData: mixed }), 6)).not.toThrow();
    depthError({ livechatData: mixed }, 5);
  });

  it('finds the deep branch among shallow ones, wherever it is', () => {
    const livechatData = { plan: 'x', a: { b: 1 }, list: [1, 2, { c: 3 }], deep: nested(25), after: { d: 1 } };
    expect(depthError({ livechatData }).message).toContain('visitor.livechatData is nested deeper than 20');
  });

  it('externalIds[].metadata, naming the item', () => {
    const externalIds = [
      { appId: 'a', entityId: '1', metadata: { ok: true } },
      { appId: 'b', entityId: '2', metadata: nested(5000) },
    ];
    expect(depthError({ externalIds }).message).toContain('visitor.externalIds.1.metadata is nested deeper than 20');
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a field this gateway does not know', { futureField: nested(30) }, 'visitor.futureField'],
    ['an unknown field of lastChat', { lastChat: { _id: 'rOoM1', extra: nested(30) } }, 'visitor.lastChat.extra'],
    ['an unknown field of lastAgent', { lastAgent: { agentId: 'a1', extra: nested(30) } }, 'visitor.lastAgent.extra'],
    ['an unknown field of a phone', { phone: [{ phoneNumber: '1' }, { phoneNumber: '2', extra: nested(30) }] }, 'visitor.phone.1.extra'],
    ['an unknown field of an e-mail', { visitorEmails: [{ address: 'a@b', extra: [nested(30)] }] }, 'visitor.visitorEmails.0.extra'],
    ['an unknown field of the contact manager', { contactManager: { username: 'm', extra: nested(30) } }, 'visitor.contactManager.extra'],
    [
      "an unknown field of the contact manager's e-mail",
      { contactManager: { username: 'm', emails: [{ address: 'a@b', x: nested(30) }] } },
      'visitor.contactManager.emails.0.x',
    ],
  ])('%s', (_label, patch, path) => {
    expect(depthError(patch).message).toContain(`${path} is nested deeper than 20`);
  });

  it('names a key only when it looks like a field name, and never a value', () => {
    const weird = { [`<script>${'k'.repeat(100)}`]: nested(30, 'SECRET-KEY', 'SECRET-VALUE') };
    const err = depthError(weird);
    expect(err.message).toContain('visitor.* is nested deeper than 20');
    const seen = JSON.stringify({ m: err.message, e: err.extensions });
    expect(seen).not.toContain('SECRET');
    expect(seen).not.toContain('script');
    expect(depthError({ ['__proto__']: nested(30) }).message).toContain('visitor.__proto__ is nested deeper than 20');
  });

  it('measures a `__proto__` key from the wire like any other', () => {
    const livechatData = JSON.parse(`{"__proto__":${JSON.stringify(nested(30))}}`);
    expect(Object.hasOwn(livechatData, '__proto__')).toBe(true);
    depthError({ livechatData });
  });

  it("does not count the visitor's own structure: MAX_JSON_DEPTH=1 still passes every demo visitor with flat free-form values", () => {
    for (const v of DEMO_VISITORS) {
      const flat = Object.values(v.livechatData ?? {}).every((x) => typeof x !== 'object' || x === null);
      if (!flat) continue;
      expect(parseVisitorsInfo(200, {}, { visitor: structuredClone(v), success: true }, 1)).toStrictEqual(v);
    }
    expect(() => parseVisitorsInfo(200, {}, { success: true, visitor: DEMO_VISITORS.find((x) => x._id === FULL_VISITOR_ID) }, 1)).not.toThrow();
  });

  it('a wide, shallow livechatData passes (breadth is bounded by the body size, not by this)', () => {
    const livechatData = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`f${i}`, { v: [i] }]));
    expect(() => parseVisitorsInfo(200, {}, seedWith({ livechatData }))).not.toThrow();
  });

  it('a 1 MiB body nested 200 000 levels deep parses (JSON.parse is iterative) and is refused without overflowing the stack', () => {
    const levels = 200_000;
    const text = `{"visitor":{"_id":"x1","livechatData":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}},"success":true}`;
    expect(text.length).toBeGreaterThan(1_000_000);
    const body: unknown = JSON.parse(text);
    const err = thrown(() => parseVisitorsInfo(200, {}, body));
    expect(err.message).toContain('visitor.livechatData is nested deeper than 20');
    const arrays: unknown = JSON.parse(`{"visitor":{"_id":"x1","livechatData":{"a":${'['.repeat(500_000)}${']'.repeat(500_000)}}},"success":true}`);
    expect(thrown(() => parseVisitorsInfo(200, {}, arrays)).message).toContain('visitor.livechatData is nested deeper than 20');
    // And the walk leaves nothing behind that spoils the next visitor.
    expect(parseVisitorsInfo(200, {}, structuredClone(SEED_BODY))).toStrictEqual(SEED_BODY.visitor);
  });
});

describe('parseVisitorsInfo: non-200 statuses go to the catalogue', () => {
  it.each<[number, unknown, string]>([
    [400, { success: false, error: 'visitor-not-found' }, 'NOT_FOUND'],
    [400, { success: false, error: "must have required property 'visitorId' [invalid-params]", errorType: 'invalid-params' }, 'BAD_USER_INPUT'],
    [400, { success: false, error: 'error-not-authorized' }, 'FORBIDDEN'],
    [401, { status: 'error', message: 'You must be logged in to do this.' }, 'UNAUTHENTICATED'],
    [403, { success: false, error: 'User does not have the permissions required for this action [error-unauthorized]' }, 'FORBIDDEN'],
    [500, undefined, 'UPSTREAM_UNAVAILABLE'],
    [503, { success: false, error: 'down' }, 'UPSTREAM_UNAVAILABLE'],
    [404, undefined, 'UPSTREAM_ERROR'],
  ])('%i %j → %s', (status, body, code) => {
    const err = thrown(() => parseVisitorsInfo(status, {}, body));
    expect(err.extensions.code).toBe(code);
    expect((err.extensions.upstream as { status: number }).status).toBe(status);
  });

  it('a 200-shaped visitor body under an error status is still the error', () => {
    const err = thrown(() => parseVisitorsInfo(500, {}, SEED_BODY));
    expect(err.extensions.code).toBe('UPSTREAM_UNAVAILABLE');
  });

  it('429 uses the headers it is given for retryAfter', () => {
    const err = thrown(() => parseVisitorsInfo(429, { 'retry-after': '17' }, { success: false, error: 'Error, too many requests. [error-too-many-requests]' }));
    expect(err.extensions.code).toBe('RATE_LIMITED');
    expect(err.extensions.retryAfter).toBe(17);
  });

  it('429 with X-RateLimit-Reset (epoch ms) gives seconds from now', () => {
    const err = thrown(() => parseVisitorsInfo(429, { 'x-ratelimit-reset': String(Date.now() + 40_000) }, { success: false, error: 'slow down' }));
    expect(err.extensions.retryAfter).toBeGreaterThanOrEqual(39);
    expect(err.extensions.retryAfter).toBeLessThanOrEqual(40);
  });
});
