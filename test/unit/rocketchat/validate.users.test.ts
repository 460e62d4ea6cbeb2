import { describe, expect, it } from 'vitest';
import { AGENT_SMITH_ID, DEMO_USER_RECORDS, userAsSeenBy } from '../../../src/demo/users.js';
import { DEMO_CREDENTIALS } from '../../../src/demo/visitors.js';
import { GatewayError } from '../../../src/errors.js';
import { parseUsersInfo } from '../../../src/rocketchat/validate.js';

/** users.info as an ordinary caller sees another user (NEIGHBOURS.md): no e-mails, no roles. */
const ORDINARY_VIEW = {
  _id: AGENT_SMITH_ID,
  type: 'user',
  active: true,
  name: 'Alex Smith',
  username: 'agent.smith',
  status: 'online',
  statusText: 'On the support rota until 18:00',
  utcOffset: 1,
  statusLivechat: 'available',
  avatarETag: 'x8Kq2Lw',
  canViewAllInfo: false,
  customFields: { team: 'tier-2', badge: { level: 3, tags: ['a', 'b'] } },
};

/** The same user seen by themself or with view-full-other-user-info. */
const FULL_VIEW = {
  ...ORDINARY_VIEW,
  canViewAllInfo: true,
  emails: [
    { address: 'alex.smith@example.org', verified: true },
    { address: 'alex@example.net', verified: false },
  ],
  roles: ['user', 'livechat-agent'],
  createdAt: '2023-01-02T03:04:05.678Z',
  lastLogin: '2024-06-12T14:31:07.912Z',
  settings: { preferences: { language: 'en' } },
};

const answer = (user: unknown) => ({ user, success: true });
const withField = (patch: Record<string, unknown>) => answer({ ...ORDINARY_VIEW, ...patch });

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

describe('parseUsersInfo: valid answers', () => {
  it('the ordinary caller’s view (canViewAllInfo, type, active, custom fields) passes and comes back unchanged', () => {
    const user = parseUsersInfo(200, {}, answer(structuredClone(ORDINARY_VIEW)));
    expect(user).toStrictEqual(ORDINARY_VIEW);
    expect(user).not.toHaveProperty('emails');
  });

  it('the full view, with emails { address, verified }, passes', () => {
    const user = parseUsersInfo(200, {}, answer(structuredClone(FULL_VIEW)));
    expect(user).toStrictEqual(FULL_VIEW);
    expect(user.emails).toStrictEqual([
      { address: 'alex.smith@example.org', verified: true },
      { address: 'alex@example.net', verified: false },
    ]);
  });

  it('every demo user as each demo caller sees them passes', () => {
    for (const record of DEMO_USER_RECORDS) {
      for (const permissions of [new Set<string>(), new Set(['view-full-other-user-info'])]) {
        const shown = JSON.parse(JSON.stringify(userAsSeenBy(record, DEMO_CREDENTIALS.userId, permissions))) as Record<string, unknown>;
        expect(parseUsersInfo(200, {}, answer(shown))).toStrictEqual(shown);
      }
    }
  });

  it.each<[string, Record<string, unknown>]>([
    ['an e-mail without verified', { emails: [{ address: 'a@example.org' }] }],
    ['no e-mails at all', { emails: [] }],
    ['a fractional utcOffset', { utcOffset: 5.5 }],
    ['a negative utcOffset', { utcOffset: -3 }],
    ['a status the gateway does not know', { status: 'on-holiday' }],
    ['a statusLivechat the gateway does not know', { statusLivechat: 'maybe' }],
    ['an empty statusText', { statusText: '' }],
    ['unknown keys of any shape', { futureField: { nested: [1, { deep: null }] }, anotherOne: 42, _hidden: null }],
    ['customFields of any shape', { customFields: ['not', 'an', 'object'] }],
    ['roles for the ordinary view', { roles: ['user'] }],
  ])('accepts %s, keeping it', (_label, patch) => {
    expect(parseUsersInfo(200, {}, withField(patch))).toStrictEqual({ ...ORDINARY_VIEW, ...patch });
  });

  it('accepts only an _id, and an unknown top-level key', () => {
    expect(parseUsersInfo(200, {}, answer({ _id: 'oNlYaNiD' }))).toStrictEqual({ _id: 'oNlYaNiD' });
    expect(parseUsersInfo(200, {}, { ...answer({ _id: 'x1' }), extra: true })).toStrictEqual({ _id: 'x1' });
  });
});

describe('parseUsersInfo: wrong shapes → UPSTREAM_BAD_RESPONSE', () => {
  const { _id: _dropped, ...withoutId } = ORDINARY_VIEW;

  it.each<[string, unknown, string]>([
    ['a user without _id', answer(withoutId), 'user._id'],
    ['an empty _id', withField({ _id: '' }), 'user._id'],
    ['_id as a number', withField({ _id: 42 }), 'user._id'],
    ['username as a number', withField({ username: 7 }), 'user.username'],
    ['name as null', withField({ name: null }), 'user.name'],
    ['status as an object', withField({ status: { value: 'online' } }), 'user.status'],
    ['statusText as a number', withField({ statusText: 1 }), 'user.statusText'],
    ['utcOffset as a string', withField({ utcOffset: '-3' }), 'user.utcOffset'],
    ['statusLivechat as a boolean', withField({ statusLivechat: true }), 'user.statusLivechat'],
    ['avatarETag as a number', withField({ avatarETag: 12345 }), 'user.avatarETag'],
    ['emails not an array', withField({ emails: { address: 'a@example.org' } }), 'user.emails'],
    ['emails as a string', withField({ emails: 'a@example.org' }), 'user.emails'],
    ['an e-mail without address', withField({ emails: [{ verified: true }] }), 'user.emails.0.address'],
    ['an e-mail address as a number', withField({ emails: [{ address: 'ok@example.org' }, { address: 5 }] }), 'user.emails.1.address'],
    ['verified as a string', withField({ emails: [{ address: 'a@example.org', verified: 'yes' }] }), 'user.emails.0.verified'],
    ['an e-mail that is a string', withField({ emails: ['a@example.org'] }), 'user.emails.0'],
    ['a user that is not an object', answer(AGENT_SMITH_ID), 'user'],
    ['a null user', answer(null), 'user'],
    ['user missing', { success: true }, 'user'],
    ['success missing', { user: ORDINARY_VIEW }, 'success'],
    ['success as "true"', { user: ORDINARY_VIEW, success: 'true' }, 'success'],
  ])('%s (at %s)', (_label, body, path) => {
    const err = thrown(() => parseUsersInfo(200, {}, body));
    expect(err.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(err.extensions.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(err.extensions.upstream).toStrictEqual({ status: 200, error: null });
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(`unexpected shape at ${path}`);
  });

  it.each<[string, unknown]>([
    ['no body', undefined],
    ['a body that is an array', [ORDINARY_VIEW]],
    ['a body that is a string', 'user'],
  ])('%s → UPSTREAM_BAD_RESPONSE at body', (_label, body) => {
    const err = thrown(() => parseUsersInfo(200, {}, body));
    expect(err.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(err.message).toContain('body');
  });

  it('names where the shape broke, never the offending value', () => {
    const offset = thrown(() => parseUsersInfo(200, {}, withField({ utcOffset: 'sEcReT-oFfSeT' })));
    expect(offset.message).toContain('user.utcOffset');
    expect(offset.message).not.toContain('sEcReT-oFfSeT');
    const emails = thrown(() => parseUsersInfo(200, {}, withField({ emails: 'pRiVaTe@example.org' })));
    expect(emails.message).toContain('user.emails');
    expect(emails.message).not.toContain('pRiVaTe');
    const address = thrown(() => parseUsersInfo(200, {}, withField({ emails: [{ address: 'ok@example.org', verified: 'sEcReTfLaG' }] })));
    expect(address.message).toContain('user.emails.0.verified');
    expect(address.message).not.toContain('sEcReTfLaG');
    expect(address.message).not.toContain('ok@example.org');
    const id = thrown(() => parseUsersInfo(200, {}, withField({ _id: 9_876_543 })));
    expect(id.message).toContain('user._id');
    expect(id.message).not.toContain('9876543');
    expect(JSON.stringify(id.extensions)).not.toContain('9876543');
  });
});

describe('parseUsersInfo: refusals go to the catalogue', () => {
  it('400 "User not found." → NOT_FOUND carrying Rocket.Chat’s error', () => {
    const err = thrown(() => parseUsersInfo(400, {}, { success: false, error: 'User not found.' }));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toBe('User not found.');
    expect(err.extensions.upstream).toStrictEqual({ status: 400, error: 'User not found.' });
    expect(err.retryable).toBe(false);
  });

  it('visitors.info’s not-found string is not users.info’s', () => {
    expect(thrown(() => parseUsersInfo(400, {}, { success: false, error: 'visitor-not-found' })).code).toBe('UPSTREAM_ERROR');
  });

  it('400 invalid-params → UPSTREAM_ERROR: the ids come from Rocket.Chat’s own records, not the caller', () => {
    const err = thrown(() =>
      parseUsersInfo(400, {}, { success: false, error: 'must match exactly one schema in oneOf [invalid-params]', errorType: 'invalid-params' }),
    );
    expect(err.code).toBe('UPSTREAM_ERROR');
    expect(err.extensions.upstream).toStrictEqual({ status: 400, error: 'must match exactly one schema in oneOf [invalid-params]' });
  });

  it.each<[number, unknown, string]>([
    [401, { status: 'error', message: 'You must be logged in to do this.' }, 'UNAUTHENTICATED'],
    [401, undefined, 'UNAUTHENTICATED'],
    [403, { success: false, error: 'User does not have the permissions required for this action [error-unauthorized]' }, 'FORBIDDEN'],
    [403, undefined, 'FORBIDDEN'],
    [400, { success: false, error: 'User does not have the permissions required for this action' }, 'FORBIDDEN'],
    [400, { success: false, error: 'error-not-authorized' }, 'FORBIDDEN'],
    [400, { success: false, error: 'Something else' }, 'UPSTREAM_ERROR'],
    [200, { success: false, error: 'something went wrong' }, 'UPSTREAM_BAD_RESPONSE'],
    [200, { success: false, user: ORDINARY_VIEW }, 'UPSTREAM_BAD_RESPONSE'],
    [404, { success: false, error: 'Not found' }, 'UPSTREAM_ERROR'],
    [500, { success: false, error: 'Internal server error' }, 'UPSTREAM_UNAVAILABLE'],
    [503, undefined, 'UPSTREAM_UNAVAILABLE'],
    [429, { success: false, error: 'Error, too many requests. [error-too-many-requests]' }, 'RATE_LIMITED'],
  ])('%i %j → %s', (status, body, code) => {
    const err = thrown(() => parseUsersInfo(status, {}, body));
    expect(err.code).toBe(code);
    expect(err.extensions.upstream).toMatchObject({ status });
  });

  it('FORBIDDEN names no permission of another route', () => {
    const err = thrown(() => parseUsersInfo(403, {}, { success: false, error: 'nope' }));
    expect(err.message).not.toContain('view-l-room');
    expect(err.message).not.toContain('view-livechat-departments');
  });

  it('a user-shaped body under an error status is still the error', () => {
    expect(thrown(() => parseUsersInfo(500, {}, answer(ORDINARY_VIEW))).code).toBe('UPSTREAM_UNAVAILABLE');
    expect(thrown(() => parseUsersInfo(401, {}, answer(ORDINARY_VIEW))).code).toBe('UNAUTHENTICATED');
  });

  it('429 is RATE_LIMITED with retryAfter from X-RateLimit-Reset or Retry-After', () => {
    const now = Date.now();
    const err = thrown(() => parseUsersInfo(429, { 'x-ratelimit-reset': String(now + 30_000) }, { success: false, error: 'slow down' }));
    expect(err.code).toBe('RATE_LIMITED');
    expect(err.retryAfter).toBeGreaterThanOrEqual(29);
    expect(err.retryAfter).toBeLessThanOrEqual(30);
    expect(err.extensions.retryAfter).toBe(err.retryAfter);
    expect(thrown(() => parseUsersInfo(429, { 'retry-after': '12' }, undefined)).retryAfter).toBe(12);
  });

  it('500 is retryable and a fault of Rocket.Chat’s; the refusals are neither', () => {
    const unavailable = thrown(() => parseUsersInfo(500, {}, undefined));
    expect(unavailable.retryable).toBe(true);
    expect(unavailable.upstreamFault).toBe(true);
    for (const status of [400, 401, 403, 429]) {
      const refusal = thrown(() => parseUsersInfo(status, {}, { success: false, error: 'x' }));
      expect(refusal.retryable).toBe(false);
      expect(refusal.upstreamFault).toBe(false);
    }
  });
});
