import type { VisitorConnectionResolvers, VisitorEdgeResolvers } from '../__generated__/resolvers-types.js';
import { searchEdges, searchNode, searchPageInfo } from '../rocketchat/SearchAPI.js';

export const VisitorConnection: VisitorConnectionResolvers = {
  totalCount: (page) => page.total,
  edges: (page) => searchEdges(page),
  pageInfo: (page) => searchPageInfo(page),
};

export const VisitorEdge: VisitorEdgeResolvers = {
  // What the query asks of the node decides whether the hit is enough (rocketchat/SearchAPI.ts).
  node: (edge, _args, { visitors }, info) => searchNode(edge.node, info.fieldNodes, info.fragments, visitors),
};
