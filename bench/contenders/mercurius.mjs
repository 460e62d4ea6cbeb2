/**
 * Fastify + Mercurius with graphql-jit (compiling each query after its first use), hosting the
 * gateway's own code: the same executable schema and resolvers, the same per-request context and
 * loaders, the same Rocket.Chat client with its resilience, the same validation rules and the
 * same upstream-call budget. So the comparison is between servers (Mercurius's request path and
 * the gateway's), not between upstream clients.
 */
import Fastify from 'fastify';
import mercurius from 'mercurius';
import { runChild } from '../lib/child.mjs';

const dist = new URL('../../dist/', import.meta.url);
const { loadConfig } = await import(new URL('config.js', dist).href);
const { buildSchema } = await import(new URL('schema.js', dist).href);
const { createContext } = await import(new URL('context.js', dist).href);
const { gatewayRules, OperationLimits } = await import(new URL('limits.js', dist).href);
const { HttpRocketChatClient } = await import(new URL('rocketchat/client.js', dist).href);
const { createLogger } = await import(new URL('logger.js', dist).href);

runChild(async () => {
  const config = loadConfig({ ROCKETCHAT_URL: process.env.UPSTREAM_URL, NODE_ENV: 'production', LOG_LEVEL: 'silent' });
  const client = new HttpRocketChatClient({
    baseUrl: config.rocketChatUrl,
    ...config.upstream,
    breakerThreshold: config.breaker.threshold,
    breakerHalfOpenMs: config.breaker.halfOpenMs,
    maxJsonDepth: config.maxJsonDepth,
  });
  const deps = { client, config, log: createLogger('silent') };
  const limits = new OperationLimits(config);
  let requests = 0;

  const app = Fastify({ logger: false });
  await app.register(mercurius, {
    schema: buildSchema(),
    jit: 1,
    // Automatic persisted queries, as Apollo Client's APQ link expects (the bench's APQ workload).
    persistedQueryProvider: mercurius.persistedQueryDefaults.automatic(),
    validationRules: gatewayRules(config),
    context: (request) => createContext(deps, { headers: request.headers, requestId: `bench-${requests++}`, clientIp: request.socket.remoteAddress }),
  });
  app.graphql.addHook('preExecution', async (_schema, document, context, variables) => {
    const operation = document.definitions.find((d) => d.kind === 'OperationDefinition');
    const refusal = operation && limits.check(document, operation, variables, context);
    if (refusal) throw refusal;
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { info: { origin: `http://127.0.0.1:${app.server.address().port}`, path: '/graphql' } };
});
