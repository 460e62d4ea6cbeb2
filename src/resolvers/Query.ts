import type { NodeResolvers, QueryResolvers } from '../__generated__/resolvers-types.js';
import { loadNode, loadNodes, nodeTypeOf } from '../nodes.js';

export const Query: QueryResolvers = {
  visitor: (_root, { id }, { visitors }) => visitors.load(id),
  visitors: (_root, { ids }, { visitors }) => visitors.loadMany(ids),
  department: (_root, { id }, { departments }) => departments.load(id),
  searchVisitors: (_root, { term, first, after }, { search }) => search.page(term, first, after),
  node: (_root, { id }, context) => loadNode(id, context),
  nodes: (_root, { ids }, context) => loadNodes(ids, context),
};

export const Node: NodeResolvers = {
  __resolveType: (value) => nodeTypeOf(value),
};
