/**
 * The wire → schema renames the comparison servers share. They mirror the gateway's so that every
 * GraphQL contender does the same mapping work and answers the same `data` (the runner checks).
 */
import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';

const STATUSES = new Map([
  ['online', 'ONLINE'],
  ['away', 'AWAY'],
  ['busy', 'BUSY'],
  ['offline', 'OFFLINE'],
  ['disabled', 'DISABLED'],
]);

export const renameResolvers = {
  DateTime: DateTimeResolver,
  JSONObject: JSONObjectResolver,
  Visitor: {
    id: (v) => v._id,
    // Relay's global id, as the gateway's nodes.ts makes it.
    nodeId: (v) => Buffer.from(`Visitor:${v._id}`).toString('base64url'),
    status: (v) => STATUSES.get(v.status) ?? null,
    createdAt: (v) => v.ts ?? null,
    updatedAt: (v) => v._updatedAt ?? null,
    departmentId: (v) => v.department ?? null,
    phones: (v) => v.phone ?? [],
    emails: (v) => v.visitorEmails ?? [],
    customFields: (v) => v.livechatData ?? null,
    externalIds: (v) => v.externalIds ?? [],
    activity: (v) => v.activity ?? [],
  },
  VisitorLastChat: {
    id: (c) => c._id,
    startedAt: (c) => c.ts ?? null,
  },
  VisitorLastAgent: {
    assignedAt: (a) => a.ts ?? null,
  },
  VisitorContactManager: {
    id: (m) => m._id ?? null,
    emails: (m) => m.emails ?? [],
  },
};
