/**
 * shared/upstream/BEHAVIOR.md's example answer for the seed visitor, copied by hand (key order
 * included) so that an edit to the demo fixtures cannot pass unnoticed; plus the `lastChat` the
 * demo gives the seed so that it has a chat history.
 */
export const BEHAVIOR_SEED_VISITOR = {
  _id: '642fc15452492a08c3a756de',
  username: 'guest-19',
  status: 'online',
  ts: '2023-04-07T07:08:04.375Z',
  _updatedAt: '2023-11-03T08:23:23.449Z',
  name: 'Livechat Visitor',
  phone: [{ phoneNumber: '55 51 5555-5555' }],
  token: 'iNKE8a6k6cjbqWhWd',
  visitorEmails: [{ address: 'visitor@example.com' }],
  department: '64181a0728384134ed600dcc',
  // The demo's one addition to BEHAVIOR.md's record: the last room of the seed's two chats.
  lastChat: { _id: 'sEeDcHaT23NoV0317', ts: '2023-11-03T08:10:02.118Z' },
} as const;

export const BEHAVIOR_SEED_BODY = { visitor: BEHAVIOR_SEED_VISITOR, success: true } as const;
