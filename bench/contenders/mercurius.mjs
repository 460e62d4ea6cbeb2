/**
 * A fast alternative stack for the same schema: Fastify + Mercurius with graphql-jit compiling each
 * query after its first use, and an undici Pool for upstream calls, like the gateway's.
 */
import Fastify from 'fastify';
import mercurius from 'mercurius';
import { Pool } from 'undici';
import { runChild } from '../lib/child.mjs';
import { loadSdl, VISITORS_INFO_PATH } from '../lib/workload.mjs';
import { renameResolvers } from './renames.mjs';

const pool = new Pool(process.env.UPSTREAM_URL, { connections: 64, pipelining: 1, keepAliveTimeout: 30_000 });

async function fetchVisitor(id, ctx) {
  const { statusCode, body } = await pool.request({
    method: 'GET',
    path: `${VISITORS_INFO_PATH}?visitorId=${encodeURIComponent(id)}`,
    headers: { accept: 'application/json', 'x-auth-token': ctx.authToken, 'x-user-id': ctx.userId },
  });
  const json = await body.json();
  if (statusCode !== 200) throw new Error(`upstream answered ${statusCode}: ${json?.error ?? ''}`);
  return json.visitor;
}

/**
 * Repeated ids within one operation share one call, as the gateway's DataLoader and
 * RESTDataSource's GET de-duplication do, so the aliases scenario compares like with like.
 */
function load(ctx, id) {
  let pending = ctx.visitorsById.get(id);
  if (!pending) {
    pending = fetchVisitor(id, ctx);
    ctx.visitorsById.set(id, pending);
  }
  return pending;
}

runChild(async () => {
  const app = Fastify({ logger: false });
  await app.register(mercurius, {
    schema: loadSdl(),
    jit: 1,
    resolvers: {
      ...renameResolvers,
      Query: {
        visitor: (_root, { id }, ctx) => load(ctx, id),
        visitors: (_root, { ids }, ctx) => ids.map((id) => load(ctx, id)),
      },
    },
    context: (request) => ({
      authToken: request.headers['x-auth-token'],
      userId: request.headers['x-user-id'],
      visitorsById: new Map(),
    }),
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { info: { origin: `http://127.0.0.1:${app.server.address().port}`, path: '/graphql' } };
});
