import type { QueryResolvers } from '../__generated__/resolvers-types.js';

export const Query: QueryResolvers = {
  visitor: (_root, { id }, { visitors }) => visitors.load(id),
  visitors: (_root, { ids }, { visitors }) => visitors.loadMany(ids),
  department: (_root, { id }, { departments }) => departments.load(id),
  searchVisitors: (_root, { term, first, after }, { search }) => search.page(term, first, after),
};
