import { globalId } from '../nodes.js';
import type {
  VisitorContactManagerResolvers,
  VisitorLastAgentResolvers,
  VisitorLastChatResolvers,
  VisitorResolvers,
  VisitorStatus,
} from '../__generated__/resolvers-types.js';
import type { GatewayContext } from '../context.js';

/** Wire → schema renames. Fields with the same name on both sides resolve by default. */
export const Visitor: VisitorResolvers = {
  id: (v) => v._id,
  nodeId: (v) => globalId('Visitor', v._id),
  status: (v, _args, context) => visitorStatus(v.status, v._id, context),
  createdAt: (v) => v.ts ?? null,
  updatedAt: (v) => v._updatedAt ?? null,
  departmentId: (v) => v.department ?? null,
  department: (v, _args, { departments }) => (v.department ? departments.load(v.department) : null),
  chats: (v, { first, after }, { chats }) => chats.page(v, first, after),
  phones: (v) => v.phone ?? [],
  emails: (v) => v.visitorEmails ?? [],
  customFields: (v) => v.livechatData ?? null,
  externalIds: (v) => v.externalIds ?? [],
  activity: (v) => v.activity ?? [],
};

export const VisitorLastChat: VisitorLastChatResolvers = {
  id: (c) => c._id,
  startedAt: (c) => c.ts ?? null,
};

export const VisitorLastAgent: VisitorLastAgentResolvers = {
  assignedAt: (a) => a.ts ?? null,
  agent: (a, _args, { users }) => users.load(a.agentId),
};

export const VisitorContactManager: VisitorContactManagerResolvers = {
  id: (m) => m._id ?? null,
  emails: (m) => m.emails ?? [],
  user: (m, _args, { users }) => users.loadIfNamed(m._id ?? m.username),
};

/**
 * Null prototype: a status is looked up as Rocket.Chat sent it, so `__proto__`, `constructor` or
 * `toString` must be unknown statuses like any other, not members of Object.prototype. (As fast as
 * a plain object literal here, measured.)
 */
const STATUSES: Readonly<Record<string, VisitorStatus>> = Object.assign(Object.create(null) as Record<string, VisitorStatus>, {
  online: 'ONLINE',
  away: 'AWAY',
  busy: 'BUSY',
  offline: 'OFFLINE',
  disabled: 'DISABLED',
} satisfies Record<string, VisitorStatus>);

/**
 * A status from a newer Rocket.Chat must not fail a whole query: null, and a warning for the operator.
 * The context's logger is touched only then: it is made on first use, and most requests never need it.
 */
function visitorStatus(status: string | undefined, visitorId: string, context: GatewayContext): VisitorStatus | null {
  if (status === undefined) return null;
  const known = STATUSES[status];
  if (!known) {
    // Enough of it for an operator to recognise a new status; an upstream's megabyte stays out of the logs.
    const logged = status.length > MAX_LOGGED_STATUS ? `${status.slice(0, MAX_LOGGED_STATUS)}…` : status;
    context.log.warn({ status: logged, visitorId }, 'unknown visitor status from Rocket.Chat; answered null');
  }
  return known ?? null;
}

const MAX_LOGGED_STATUS = 64;
