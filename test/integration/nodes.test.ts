/**
 * Relay's Node interface: a global id of its own (`nodeId`), `node`/`nodes` served by the same
 * loaders as the typed fields, so a refetch costs what the first fetch cost.
 */
import { describe, expect, it } from 'vitest';
import { SUPPORT_DEPARTMENT_ID } from '../../src/demo/departments.js';
import { AGENT_SMITH_ID } from '../../src/demo/users.js';
import { FULL_VISITOR_ID } from '../../src/demo/visitors.js';
import { DEMO_HEADERS } from '../helpers/gateway.js';
import { useServers } from '../helpers/servers.js';

const servers = useServers();

describe('Node', () => {
  it("refetches a visitor, its department and its agent by nodeId, each through its own loader, and id stays Rocket.Chat's", async () => {
    const upstream = await servers.demo({ record: true });
    const gateway = await servers.gateway(upstream.url);
    const first = await gateway.post(
      { query: `{ visitor(id: "${FULL_VISITOR_ID}") { id nodeId department { id nodeId } lastAgent { agent { id nodeId } } } }` },
      DEMO_HEADERS,
    );
    expect(first.body.errors).toBeUndefined();
    const v = first.body.data!.visitor;
    expect(v.id).toBe(FULL_VISITOR_ID);
    expect(v.nodeId).not.toBe(FULL_VISITOR_ID);
    expect(v.department.id).toBe(SUPPORT_DEPARTMENT_ID);
    expect(v.lastAgent.agent.id).toBe(AGENT_SMITH_ID);
    upstream.reset();
    const again = await gateway.post(
      {
        query: `query($ids: [ID!]!, $one: ID!) {
          nodes(ids: $ids) { __typename nodeId ... on Visitor { name } ... on Department { name } ... on Agent { username } }
          node(id: $one) { __typename ... on Visitor { id } }
        }`,
        variables: { ids: [v.nodeId, v.department.nodeId, v.lastAgent.agent.nodeId], one: v.nodeId },
      },
      DEMO_HEADERS,
    );
    expect(again.body.errors).toBeUndefined();
    expect(again.body.data).toEqual({
      nodes: [
        { __typename: 'Visitor', nodeId: v.nodeId, name: 'Ada Lovelace' },
        { __typename: 'Department', nodeId: v.department.nodeId, name: 'Support' },
        { __typename: 'Agent', nodeId: v.lastAgent.agent.nodeId, username: 'agent.smith' },
      ],
      node: { __typename: 'Visitor', id: FULL_VISITOR_ID },
    });
    // The visitor asked twice costs one call; one call per route in all.
    expect(upstream.requests.map((r) => r.path.split('/').pop()).sort()).toEqual(['department.listByIds', 'users.info', 'visitors.info']);
  });

  it('an id the gateway did not issue is BAD_USER_INPUT at its index; a deleted department is null', async () => {
    const upstream = await servers.demo({ record: true });
    const gateway = await servers.gateway(upstream.url);
    const gone = Buffer.from('Department:dElEtEdDePaRtMeNt').toString('base64url');
    const res = await gateway.post(
      { query: 'query($ids: [ID!]!) { nodes(ids: $ids) { nodeId } }', variables: { ids: [FULL_VISITOR_ID, gone, `${gone}==`] } },
      DEMO_HEADERS,
    );
    expect(res.body.data!.nodes).toEqual([null, null, null]);
    expect(res.body.errors!.map((e) => [e.path, e.extensions?.code])).toEqual([
      [['nodes', 0], 'BAD_USER_INPUT'],
      [['nodes', 2], 'BAD_USER_INPUT'],
    ]);
  });
});
