import type { RocketChatClient } from '../../src/rocketchat/client.js';

/**
 * The Rocket.Chat routes a test double does not exercise, answering as Rocket.Chat would for a
 * caller with nothing there: no departments, a bare user, no chats, no hits. Spread into a fake
 * (`{ ...otherRoutes(), getVisitor… }`) so that a route added to RocketChatClient touches this
 * file, not every fake.
 */
export function otherRoutes(): Pick<RocketChatClient, 'getDepartments' | 'getUser' | 'getChatHistory' | 'searchVisitors' | 'avatarUrl'> {
  return {
    getDepartments: async () => [],
    getUser: async (id) => ({ _id: id }),
    getChatHistory: async () => ({ history: [], count: 0, offset: 0, total: 0, success: true }),
    searchVisitors: async () => ({ visitors: [], count: 0, offset: 0, total: 0, success: true }),
    avatarUrl: (username) => `http://rc.invalid/avatar/${username}`,
  };
}
