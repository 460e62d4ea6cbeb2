import type { WireChat } from '../rocketchat/models.js';
import { SALES_DEPARTMENT_ID, SUPPORT_DEPARTMENT_ID } from './departments.js';
import { AGENT_SMITH_ID, MANAGER_JONES_ID } from './users.js';
import { FULL_VISITOR_ID, SEED_LAST_CHAT_ID, SEED_VISITOR_ID } from './visitors.js';

/** The full visitor's last chat (its `lastChat._id`), still open. */
export const OPEN_CHAT_ID = 'rMz7kQp2WnXs4TfYd';

/** A livechat room of the demo, with the visitor it belongs to. */
export interface DemoChat extends WireChat {
  v: { _id: string; username?: string };
}

const fullVisitor = { _id: FULL_VISITOR_ID, username: 'guest-4711', name: 'Ada Lovelace', status: 'online' };

const seedVisitor = { _id: SEED_VISITOR_ID, username: 'guest-19', name: 'Livechat Visitor', status: 'online' };

/** The full visitor's chats, newest first as Rocket.Chat sorts them: one open, two closed. */
export const FULL_VISITOR_CHATS: readonly DemoChat[] = Object.freeze([
  {
    _id: OPEN_CHAT_ID,
    t: 'l',
    fname: 'Ada Lovelace',
    ts: '2024-06-12T14:30:59.004Z',
    _updatedAt: '2024-06-12T14:41:12.300Z',
    msgs: 7,
    lm: '2024-06-12T14:41:12.117Z',
    v: fullVisitor,
    departmentId: SUPPORT_DEPARTMENT_ID,
    servedBy: { _id: AGENT_SMITH_ID, username: 'agent.smith', ts: '2024-06-12T14:30:59.004Z' },
    open: true,
    source: { type: 'widget', alias: 'support.example.org' },
  },
  {
    _id: 'cLoSeDcHaT2024May',
    t: 'l',
    fname: 'Ada Lovelace',
    ts: '2024-05-30T09:15:42.120Z',
    _updatedAt: '2024-05-30T09:52:03.410Z',
    msgs: 12,
    lm: '2024-05-30T09:51:40.002Z',
    v: fullVisitor,
    departmentId: SALES_DEPARTMENT_ID,
    servedBy: { _id: MANAGER_JONES_ID, username: 'manager.jones', ts: '2024-05-30T09:16:00.000Z' },
    tags: ['pricing', 'resolved'],
    closedAt: '2024-05-30T09:52:03.400Z',
    closer: 'user',
    source: { type: 'widget', alias: 'support.example.org' },
  },
  {
    _id: 'cLoSeDcHaT2024Apr',
    t: 'l',
    fname: 'Ada Lovelace',
    ts: '2024-04-02T16:00:00.000Z',
    _updatedAt: '2024-04-02T16:20:00.000Z',
    msgs: 3,
    lm: '2024-04-02T16:19:58.000Z',
    v: fullVisitor,
    departmentId: SUPPORT_DEPARTMENT_ID,
    servedBy: { _id: AGENT_SMITH_ID, username: 'agent.smith', ts: '2024-04-02T16:00:30.000Z' },
    tags: ['resolved'],
    closedAt: '2024-04-02T16:20:00.000Z',
    closer: 'visitor',
    source: { type: 'email', alias: 'support@example.org' },
  },
]);

/** The seed visitor's chats, newest first: both closed. */
export const SEED_VISITOR_CHATS: readonly DemoChat[] = Object.freeze([
  {
    _id: SEED_LAST_CHAT_ID,
    t: 'l',
    fname: 'Livechat Visitor',
    ts: '2023-11-03T08:10:02.118Z',
    _updatedAt: '2023-11-03T08:23:23.449Z',
    msgs: 5,
    lm: '2023-11-03T08:22:51.730Z',
    v: seedVisitor,
    departmentId: SUPPORT_DEPARTMENT_ID,
    servedBy: { _id: AGENT_SMITH_ID, username: 'agent.smith', ts: '2023-11-03T08:10:30.000Z' },
    tags: ['resolved'],
    closedAt: '2023-11-03T08:23:23.400Z',
    closer: 'visitor',
    source: { type: 'widget', alias: 'support.example.org' },
  },
  {
    _id: 'sEeDcHaT23ApR0407',
    t: 'l',
    fname: 'Livechat Visitor',
    ts: '2023-04-07T07:08:04.900Z',
    _updatedAt: '2023-04-07T07:31:12.000Z',
    msgs: 9,
    lm: '2023-04-07T07:30:40.215Z',
    v: seedVisitor,
    departmentId: SUPPORT_DEPARTMENT_ID,
    servedBy: { _id: MANAGER_JONES_ID, username: 'manager.jones', ts: '2023-04-07T07:09:00.000Z' },
    tags: ['onboarding'],
    closedAt: '2023-04-07T07:31:11.900Z',
    closer: 'user',
    source: { type: 'widget', alias: 'support.example.org' },
  },
]);

/** Every livechat room of the demo. */
export const DEMO_CHATS: readonly DemoChat[] = Object.freeze([...FULL_VISITOR_CHATS, ...SEED_VISITOR_CHATS]);
