import { describe, expect, it } from 'vitest';
import type { WireVisitor } from '../../../src/rocketchat/models.js';
import {
  CUSTOM_FIELDS_VISITOR_ID,
  DEMO_CREDENTIALS,
  DEMO_LIMITED_CREDENTIALS,
  DEMO_VISITORS,
  DISABLED_VISITOR_ID,
  FULL_VISITOR_ID,
  MINIMAL_VISITOR_ID,
  SEED_VISITOR_ID,
  UNKNOWN_STATUS_VISITOR_ID,
  V85_VISITOR_ID,
} from '../../../src/demo/visitors.js';
import { BEHAVIOR_SEED_VISITOR } from '../../helpers/behavior.js';

// Listed by hand: `keyof` has no runtime form, and the point is to notice a field added to WireVisitor.
const WIRE_VISITOR_KEYS = [
  '_id',
  '_updatedAt',
  'username',
  'ts',
  'token',
  'department',
  'name',
  'phone',
  'lastChat',
  'userAgent',
  'ip',
  'host',
  'visitorEmails',
  'externalIds',
  'status',
  'lastAgent',
  'livechatData',
  'contactManager',
  'activity',
  'disabled',
] as const satisfies readonly (keyof WireVisitor)[];

// Fails to compile if WireVisitor gains a key the list above lacks.
type MissingKeys = Exclude<keyof WireVisitor, (typeof WIRE_VISITOR_KEYS)[number]>;
const noMissingKeys: [MissingKeys] extends [never] ? true : false = true;

const KNOWN_STATUSES = ['online', 'away', 'busy', 'offline', 'disabled'];
const METEOR_ID = /^[A-Za-z0-9]{17}$/;
const OBJECT_ID = /^[0-9a-f]{24}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function byId(id: string): WireVisitor {
  const visitor = DEMO_VISITORS.find((v) => v._id === id);
  if (visitor === undefined) throw new Error(`fixture ${id} missing`);
  return visitor;
}

describe('demo credentials', () => {
  it('matches BEHAVIOR.md for the privileged user', () => {
    expect(DEMO_CREDENTIALS).toStrictEqual({
      authToken: 'RScctEHSmLGZGywfIhWyRpyofhKOiMoUIpimhvheU3f',
      userId: 'rbAXPnMktTFbNpwtJ',
    });
  });

  it('gives the limited user Rocket.Chat-shaped, distinct credentials', () => {
    expect(DEMO_LIMITED_CREDENTIALS.authToken).toHaveLength(43);
    expect(DEMO_LIMITED_CREDENTIALS.userId).toMatch(METEOR_ID);
    expect(DEMO_LIMITED_CREDENTIALS.authToken).not.toBe(DEMO_CREDENTIALS.authToken);
    expect(DEMO_LIMITED_CREDENTIALS.userId).not.toBe(DEMO_CREDENTIALS.userId);
  });
});

describe('demo visitors', () => {
  it('has unique, well-formed ids, and every named id is present', () => {
    const ids = DEMO_VISITORS.map((v) => v._id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(METEOR_ID.test(id) || OBJECT_ID.test(id)).toBe(true);
    for (const id of [
      SEED_VISITOR_ID,
      FULL_VISITOR_ID,
      MINIMAL_VISITOR_ID,
      V85_VISITOR_ID,
      CUSTOM_FIELDS_VISITOR_ID,
      DISABLED_VISITOR_ID,
      UNKNOWN_STATUS_VISITOR_ID,
    ]) {
      expect(ids).toContain(id);
    }
  });

  it('writes every date as ISO-8601 with milliseconds and Z', () => {
    for (const v of DEMO_VISITORS) {
      const dates = [v.ts, v._updatedAt, v.lastChat?.ts, v.lastAgent?.ts].filter((d) => d !== undefined);
      for (const date of dates) {
        expect(date).toMatch(ISO_DATE);
        expect(new Date(date).toISOString()).toBe(date);
      }
    }
  });

  it('seed equals BEHAVIOR.md, key order included', () => {
    const seed = byId(SEED_VISITOR_ID);
    const documented = BEHAVIOR_SEED_VISITOR;
    expect(seed).toStrictEqual(documented);
    expect(JSON.stringify(seed)).toBe(JSON.stringify(documented));
  });

  it('full visitor sets every WireVisitor field, nested ones included', () => {
    expect(noMissingKeys).toBe(true);
    const full = byId(FULL_VISITOR_ID);
    expect(Object.keys(full).sort()).toStrictEqual([...WIRE_VISITOR_KEYS].sort());
    for (const key of WIRE_VISITOR_KEYS) expect(full[key], key).not.toBeUndefined();
    expect(full._id).toMatch(METEOR_ID);
    expect(full.status).toBe('away');
    expect(full.phone).not.toBeNull();
    expect(full.lastChat).toHaveProperty('_id');
    expect(full.lastAgent).toEqual(expect.objectContaining({ username: expect.any(String), agentId: expect.any(String), ts: expect.any(String) }));
    expect(full.contactManager?.emails?.length).toBeGreaterThan(0);
    expect(full.contactManager?._id).toBeDefined();
    expect(full.contactManager?.name).toBeDefined();
    expect(full.externalIds?.[0]?.metadata).toBeDefined();
    expect(full.activity?.length).toBeGreaterThan(0);
    expect(typeof full.disabled).toBe('boolean');
  });

  it('minimal visitor has only a 17-char Meteor _id', () => {
    const minimal = byId(MINIMAL_VISITOR_ID);
    expect(Object.keys(minimal)).toStrictEqual(['_id']);
    expect(minimal._id).toMatch(METEOR_ID);
  });

  it('8.5 visitor has no token, has externalIds and a null phone', () => {
    const v85 = byId(V85_VISITOR_ID);
    expect(v85).not.toHaveProperty('token');
    expect(v85.externalIds?.length).toBeGreaterThan(0);
    for (const ext of v85.externalIds ?? []) {
      expect(ext.appId).toEqual(expect.any(String));
      expect(ext.entityId).toEqual(expect.any(String));
    }
    expect(v85.phone).toBeNull();
    expect(v85.status).toBe('offline');
  });

  it('custom-fields visitor carries nested objects, arrays, numbers and booleans', () => {
    const custom = byId(CUSTOM_FIELDS_VISITOR_ID);
    expect(custom.status).toBe('busy');
    const values = Object.values(custom.livechatData ?? {});
    expect(values.some((v) => typeof v === 'number')).toBe(true);
    expect(values.some((v) => typeof v === 'boolean')).toBe(true);
    expect(values.some((v) => Array.isArray(v))).toBe(true);
    expect(values.some((v) => v !== null && typeof v === 'object' && !Array.isArray(v))).toBe(true);
  });

  it('disabled visitor is disabled both ways', () => {
    const disabled = byId(DISABLED_VISITOR_ID);
    expect(disabled.status).toBe('disabled');
    expect(disabled.disabled).toBe(true);
  });

  it('unknown-status visitor carries a status outside the known set', () => {
    const status = byId(UNKNOWN_STATUS_VISITOR_ID).status;
    expect(status).toBe('invisible');
    expect(KNOWN_STATUSES).not.toContain(status);
  });

  it('covers every known status across the fixtures', () => {
    const statuses = new Set(DEMO_VISITORS.map((v) => v.status));
    for (const status of KNOWN_STATUSES) expect(statuses).toContain(status);
  });
});
