import type { ChatConnectionResolvers, ChatResolvers } from '../__generated__/resolvers-types.js';
import { chatEdges, chatPageInfo } from '../rocketchat/ChatsAPI.js';

/** Wire → schema renames. Fields with the same name on both sides resolve by default. */
export const Chat: ChatResolvers = {
  id: (c) => c._id,
  startedAt: (c) => c.ts ?? null,
  updatedAt: (c) => c._updatedAt ?? null,
  closedAt: (c) => c.closedAt ?? null,
  open: (c) => c.open === true,
  messagesCount: (c) => c.msgs ?? null,
  lastMessageAt: (c) => c.lm ?? null,
  tags: (c) => c.tags ?? [],
  department: (c, _args, { departments }) => (c.departmentId ? departments.load(c.departmentId) : null),
  servedBy: (c, _args, { users }) => users.loadIfNamed(c.servedBy?._id),
};

export const ChatConnection: ChatConnectionResolvers = {
  totalCount: (page) => page.total,
  edges: (page) => chatEdges(page),
  pageInfo: (page) => chatPageInfo(page),
};
