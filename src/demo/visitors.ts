/**
 * Fixture visitors served by the embedded demo upstream (./upstream.ts). They are deliberately
 * varied so that every branch of the gateway's mapping (absent fields, 8.5's missing token, unknown
 * statuses, arbitrary custom fields) can be exercised without a real Rocket.Chat server.
 */
import type { WireVisitor } from '../rocketchat/models.js';

/** The example credentials of BEHAVIOR.md; this user holds `view-l-room`. */
export const DEMO_CREDENTIALS = {
  authToken: 'RScctEHSmLGZGywfIhWyRpyofhKOiMoUIpimhvheU3f',
  userId: 'rbAXPnMktTFbNpwtJ',
} as const;

/** Logged in but without `view-l-room`, so the upstream answers 403 to it. */
export const DEMO_LIMITED_CREDENTIALS = {
  authToken: 'mxpRoPG3ro5AMMkeywhJvvBfWg9TLdcM3TlmomuwJ-G',
  userId: 'mDLjuZz8usjZSZe5D',
} as const;

export const SEED_VISITOR_ID = '642fc15452492a08c3a756de';
/** The seed's last livechat room (its `lastChat._id`), closed. */
export const SEED_LAST_CHAT_ID = 'sEeDcHaT23NoV0317';
export const FULL_VISITOR_ID = 'fULLvIsItOr8Xq2Kp';
export const MINIMAL_VISITOR_ID = 'mInImAlViSiToR001';
export const V85_VISITOR_ID = '6650a1f3c2b4e8d9a7f01234';
export const CUSTOM_FIELDS_VISITOR_ID = 'cUsToMfIeLdS7Hn4R';
export const DISABLED_VISITOR_ID = 'dIsAbLeDvIsIt9Wz3';
export const UNKNOWN_STATUS_VISITOR_ID = 'uNkNoWnStAtUs5Tb8';

/**
 * BEHAVIOR.md's example record, key order included, so served bytes match the docs, with the
 * `lastChat` a visitor with chats has (issue 12: the seed shows its chat history).
 */
const SEED_VISITOR: WireVisitor = {
  _id: SEED_VISITOR_ID,
  username: 'guest-19',
  status: 'online',
  ts: '2023-04-07T07:08:04.375Z',
  _updatedAt: '2023-11-03T08:23:23.449Z',
  name: 'Livechat Visitor',
  phone: [{ phoneNumber: '55 51 5555-5555' }],
  token: 'iNKE8a6k6cjbqWhWd',
  visitorEmails: [{ address: 'visitor@example.com' }],
  department: '64181a0728384134ed600dcc',
  // Not in BEHAVIOR.md's example record: a visitor with chats has its last room here, and the demo
  // gives the seed two closed chats (chats.ts) so that the example visitor shows its history.
  lastChat: { _id: SEED_LAST_CHAT_ID, ts: '2023-11-03T08:10:02.118Z' },
};

/** Every optional field set, so no mapping can silently drop one. */
const FULL_VISITOR: WireVisitor = {
  _id: FULL_VISITOR_ID,
  _updatedAt: '2024-06-12T14:31:07.912Z',
  username: 'guest-4711',
  ts: '2024-05-30T09:15:42.120Z',
  token: 'tKn3Wq8ZpR5sLmYhA',
  department: '64181a0728384134ed600dcc',
  name: 'Ada Lovelace',
  phone: [{ phoneNumber: '+44 20 7946 0018' }, { phoneNumber: '+44 7700 900461' }],
  lastChat: { _id: 'rMz7kQp2WnXs4TfYd', ts: '2024-06-12T14:30:59.004Z' },
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36',
  ip: '203.0.113.42',
  host: 'support.example.org',
  visitorEmails: [{ address: 'ada@example.org' }, { address: 'ada.lovelace@example.net' }],
  externalIds: [
    {
      appId: 'b2f1c1a4-6d2e-4f0a-9a7e-3c5d8e1f2a90',
      entityId: '447700900461',
      metadata: { channel: 'whatsapp', verified: true, optInAt: '2024-05-30T09:16:00.000Z' },
    },
  ],
  status: 'away',
  lastAgent: { username: 'agent.smith', agentId: 'aGtSm1thK9Lp2QwEr', ts: '2024-06-12T14:30:59.004Z' },
  livechatData: { plan: 'enterprise', accountNumber: 'ACC-00918' },
  contactManager: {
    _id: 'cMgR4nAg3rXy7ZqWe',
    username: 'manager.jones',
    name: 'Morgan Jones',
    emails: [{ address: 'morgan.jones@example.org' }],
  },
  activity: ['2024-06', '2024-05'],
  disabled: false,
};

/** Only the one field Rocket.Chat guarantees. */
const MINIMAL_VISITOR: WireVisitor = { _id: MINIMAL_VISITOR_ID };

/** What 8.5+ sends: the token is gone, an app-provided external id and a null phone appear. */
const V85_VISITOR: WireVisitor = {
  _id: V85_VISITOR_ID,
  _updatedAt: '2025-02-18T11:02:33.517Z',
  username: 'guest-2048',
  ts: '2025-02-18T10:58:01.006Z',
  name: 'WhatsApp Contact',
  phone: null,
  externalIds: [{ appId: '1e0d7c2b-9a34-4c5f-8e61-5b7a2d9c0f13', entityId: '5511987654321' }],
  visitorEmails: [],
  status: 'offline',
};

/** Custom fields are free-form JSON; nested values must survive the gateway untouched. */
const CUSTOM_FIELDS_VISITOR: WireVisitor = {
  _id: CUSTOM_FIELDS_VISITOR_ID,
  _updatedAt: '2024-11-20T16:45:10.300Z',
  username: 'guest-777',
  ts: '2024-11-01T08:00:00.000Z',
  name: 'Custom Fields Visitor',
  status: 'busy',
  livechatData: {
    tier: 'gold',
    lifetimeValue: 12345.67,
    orders: 42,
    newsletter: true,
    referrer: null,
    tags: ['vip', 'beta-tester', 'de'],
    address: { street: 'Hauptstraße 1', city: 'Berlin', geo: { lat: 52.52, lng: 13.405 } },
    history: [
      { year: 2023, purchases: 3, refunded: false },
      { year: 2024, purchases: 7, refunded: true },
    ],
  },
};

const DISABLED_VISITOR: WireVisitor = {
  _id: DISABLED_VISITOR_ID,
  _updatedAt: '2024-03-03T03:03:03.303Z',
  username: 'guest-13',
  ts: '2023-12-24T18:00:00.000Z',
  name: 'Disabled Visitor',
  status: 'disabled',
  disabled: true,
};

/** A status newer servers might add; the gateway must degrade rather than fail. */
const UNKNOWN_STATUS_VISITOR: WireVisitor = {
  _id: UNKNOWN_STATUS_VISITOR_ID,
  _updatedAt: '2025-05-05T05:05:05.505Z',
  username: 'guest-99',
  ts: '2025-05-01T12:00:00.000Z',
  name: 'Future Status Visitor',
  status: 'invisible',
};

export const DEMO_VISITORS: readonly WireVisitor[] = Object.freeze([
  SEED_VISITOR,
  FULL_VISITOR,
  MINIMAL_VISITOR,
  V85_VISITOR,
  CUSTOM_FIELDS_VISITOR,
  DISABLED_VISITOR,
  UNKNOWN_STATUS_VISITOR,
]);
