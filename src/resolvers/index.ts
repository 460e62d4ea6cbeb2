import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';
import type { Resolvers } from '../__generated__/resolvers-types.js';
import { Agent } from './Agent.js';
import { Department } from './Department.js';
import { Query } from './Query.js';
import { Visitor, VisitorContactManager, VisitorLastAgent, VisitorLastChat } from './Visitor.js';

export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  JSONObject: JSONObjectResolver,
  Query,
  Visitor,
  Department,
  Agent,
  VisitorLastChat,
  VisitorLastAgent,
  VisitorContactManager,
};
