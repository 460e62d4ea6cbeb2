import { globalId } from '../nodes.js';
import type { AgentLivechatStatus, AgentResolvers, AgentStatus } from '../__generated__/resolvers-types.js';

/** Wire → schema renames. Fields with the same name on both sides resolve by default. */
export const Agent: AgentResolvers = {
  id: (u) => u._id,
  nodeId: (u) => globalId('Agent', u._id),
  status: (u) => (u.status === undefined ? null : (STATUSES[u.status] ?? null)),
  livechatStatus: (u) => (u.statusLivechat === undefined ? null : (LIVECHAT_STATUSES[u.statusLivechat] ?? null)),
  statusText: (u) => u.statusText || null,
  emails: (u) => u.emails ?? null,
};

// Null prototypes: a status is looked up as Rocket.Chat sent it, so `__proto__` is unknown, not a member.
const STATUSES: Readonly<Record<string, AgentStatus>> = Object.assign(Object.create(null) as Record<string, AgentStatus>, {
  online: 'ONLINE',
  away: 'AWAY',
  busy: 'BUSY',
  offline: 'OFFLINE',
  disabled: 'DISABLED',
} satisfies Record<string, AgentStatus>);

const LIVECHAT_STATUSES: Readonly<Record<string, AgentLivechatStatus>> = Object.assign(Object.create(null) as Record<string, AgentLivechatStatus>, {
  available: 'AVAILABLE',
  'not-available': 'NOT_AVAILABLE',
} satisfies Record<string, AgentLivechatStatus>);
