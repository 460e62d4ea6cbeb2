import { DEMO_CREDENTIALS, DEMO_LIMITED_CREDENTIALS } from './visitors.js';

/** The full visitor's last agent and its contact manager (src/demo/visitors.ts). */
export const AGENT_SMITH_ID = 'aGtSm1thK9Lp2QwEr';
export const MANAGER_JONES_ID = 'cMgR4nAg3rXy7ZqWe';

/**
 * The demo's users as Rocket.Chat stores them. `users.info` shows the fields in PUBLIC_FIELDS to
 * everyone logged in, and the rest only to the user themself or to a caller holding
 * `view-full-other-user-info` (NEIGHBOURS.md).
 */
export interface DemoUserRecord {
  _id: string;
  username: string;
  name: string;
  status: string;
  statusText?: string;
  utcOffset: number;
  statusLivechat?: string;
  avatarETag?: string;
  emails: { address: string; verified: boolean }[];
  roles: string[];
}

export const DEMO_USER_RECORDS: readonly DemoUserRecord[] = Object.freeze([
  {
    _id: AGENT_SMITH_ID,
    username: 'agent.smith',
    name: 'Alex Smith',
    status: 'online',
    statusText: 'On the support rota until 18:00',
    utcOffset: 1,
    statusLivechat: 'available',
    avatarETag: 'x8Kq2Lw',
    emails: [{ address: 'alex.smith@example.org', verified: true }],
    roles: ['user', 'livechat-agent'],
  },
  {
    _id: MANAGER_JONES_ID,
    username: 'manager.jones',
    name: 'Morgan Jones',
    status: 'away',
    utcOffset: -3,
    statusLivechat: 'not-available',
    emails: [{ address: 'morgan.jones@example.org', verified: false }],
    roles: ['user', 'livechat-manager'],
  },
  {
    _id: DEMO_CREDENTIALS.userId,
    username: 'demo.agent',
    name: 'Demo Agent',
    status: 'online',
    utcOffset: 0,
    statusLivechat: 'available',
    emails: [{ address: 'demo.agent@example.org', verified: true }],
    roles: ['user', 'livechat-agent'],
  },
  {
    _id: DEMO_LIMITED_CREDENTIALS.userId,
    username: 'demo.viewer',
    name: 'Demo Viewer',
    status: 'offline',
    utcOffset: 0,
    emails: [{ address: 'demo.viewer@example.org', verified: true }],
    roles: ['user'],
  },
]);

const PUBLIC_FIELDS = ['_id', 'username', 'name', 'status', 'statusText', 'utcOffset', 'statusLivechat', 'avatarETag'] as const;

/** What `users.info` answers about `user` to the caller `viewerId`. */
export function userAsSeenBy(user: DemoUserRecord, viewerId: string, viewerPermissions: ReadonlySet<string>): Record<string, unknown> {
  const canViewAllInfo = user._id === viewerId || viewerPermissions.has('view-full-other-user-info');
  const shown: Record<string, unknown> = { type: 'user', active: true, canViewAllInfo };
  for (const field of PUBLIC_FIELDS) if (user[field] !== undefined) shown[field] = user[field];
  if (canViewAllInfo) Object.assign(shown, { emails: user.emails, roles: user.roles });
  return shown;
}
