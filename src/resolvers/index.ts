import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';
import type { Resolvers } from '../__generated__/resolvers-types.js';
import { Agent } from './Agent.js';
import { Chat, ChatConnection } from './Chat.js';
import { Department } from './Department.js';
import { Node, Query } from './Query.js';
import { VisitorConnection, VisitorEdge } from './Search.js';
import { Visitor, VisitorContactManager, VisitorLastAgent, VisitorLastChat } from './Visitor.js';

export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  JSONObject: JSONObjectResolver,
  Query,
  Node,
  Visitor,
  Department,
  Agent,
  Chat,
  ChatConnection,
  VisitorConnection,
  VisitorEdge,
  VisitorLastChat,
  VisitorLastAgent,
  VisitorContactManager,
};
