import { globalId } from '../nodes.js';
import type { DepartmentResolvers } from '../__generated__/resolvers-types.js';

/** Wire → schema renames. Fields with the same name on both sides resolve by default. */
export const Department: DepartmentResolvers = {
  id: (d) => d._id,
  nodeId: (d) => globalId('Department', d._id),
  archived: (d) => d.archived ?? false,
  description: (d) => d.description || null,
  email: (d) => d.email || null,
  agentCount: (d) => d.numAgents ?? null,
  chatClosingTags: (d) => d.chatClosingTags ?? [],
  updatedAt: (d) => d._updatedAt ?? null,
};
