import { badUserInput } from './errors.js';
import type { GatewayContext } from './context.js';
import type { WireDepartment, WireVisitor } from './rocketchat/models.js';
import type { AgentModel } from './rocketchat/UsersAPI.js';

/** What a node is on the wire (the codegen mappers of the Node types). */
export type NodeModel = WireVisitor | WireDepartment | AgentModel;

/** The types `node(id:)` can load again, and how. */
export type NodeType = 'Visitor' | 'Department' | 'Agent';

// Which type a loaded object answers as: `Node.__resolveType` reads it. A WeakMap, so a tag lives
// exactly as long as the object does.
const typeOf = new WeakMap<object, NodeType>();

/** `Type:id` in base64url: opaque to clients, and never mistaken for a Rocket.Chat id. */
export function globalId(type: NodeType, id: string): string {
  return Buffer.from(`${type}:${id}`).toString('base64url');
}

const GLOBAL_ID = /^(Visitor|Department|Agent):([A-Za-z0-9._@-]{1,120})$/;

/** The object a global id names, loaded through the operation's loaders; null when Rocket.Chat no longer has it. */
export async function loadNode(nodeId: string, context: GatewayContext): Promise<NodeModel | null> {
  const decoded = nodeId.length <= 200 ? GLOBAL_ID.exec(Buffer.from(nodeId, 'base64url').toString()) : null;
  const type = decoded?.[1] as NodeType | undefined;
  const id = decoded?.[2];
  // Node's decoder skips stray characters: only the exact text this gateway issues counts.
  if (!type || !id || globalId(type, id) !== nodeId) throw badUserInput('Not a node id this gateway gave.');
  const loaded: NodeModel | null =
    type === 'Visitor' ? await context.visitors.load(id) : type === 'Department' ? await context.departments.load(id) : await context.users.load(id);
  if (loaded) typeOf.set(loaded, type);
  return loaded;
}

/** Several, each as `loadNode` answers it: an Error in place of each that fails, so it lands at its index. */
export function loadNodes(nodeIds: readonly string[], context: GatewayContext): Promise<(NodeModel | null | Error)[]> {
  const { maxIds } = context.visitors;
  if (nodeIds.length > maxIds) return Promise.reject(badUserInput(`nodes(ids) takes at most ${maxIds} ids; got ${nodeIds.length}.`));
  return Promise.all(nodeIds.map((id) => loadNode(id, context).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))))));
}

export function nodeTypeOf(value: NodeModel): NodeType | null {
  return typeOf.get(value) ?? null;
}
