/**
 * What the gateway must beat by 2.5×: the same schema served the way Apollo's documentation teaches,
 * Apollo Server's standalone HTTP server and a RESTDataSource per request. Deliberately untuned,
 * except that CSRF prevention lets through the GETs the bench's clients send.
 */
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { RESTDataSource } from '@apollo/datasource-rest';
import { runChild } from '../lib/child.mjs';
import { loadSdl } from '../lib/workload.mjs';
import { renameResolvers } from './renames.mjs';

class VisitorsAPI extends RESTDataSource {
  baseURL = `${process.env.UPSTREAM_URL}/`;

  constructor(options) {
    super(options);
    this.token = options.token;
    this.userId = options.userId;
  }

  willSendRequest(_path, request) {
    request.headers['x-auth-token'] = this.token;
    request.headers['x-user-id'] = this.userId;
  }

  async getVisitor(id) {
    const data = await this.get('api/v1/livechat/visitors.info', { params: { visitorId: id } });
    return data.visitor;
  }
}

const resolvers = {
  ...renameResolvers,
  Query: {
    visitor: (_root, { id }, { dataSources }) => dataSources.visitorsAPI.getVisitor(id),
    visitors: (_root, { ids }, { dataSources }) => ids.map((id) => dataSources.visitorsAPI.getVisitor(id)),
  },
};

runChild(async () => {
  const server = new ApolloServer({
    typeDefs: loadSdl(),
    resolvers,
    // Apollo's documented setting for clients that send a GET with a custom header instead of its
    // preflight headers (urql's default GET carries X-Auth-Token); without it such GETs are refused.
    csrfPrevention: { requestHeaders: ['x-apollo-operation-name', 'apollo-require-preflight', 'x-auth-token'] },
  });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => {
      const { cache } = server;
      return {
        dataSources: {
          visitorsAPI: new VisitorsAPI({
            cache,
            token: req.headers['x-auth-token'],
            userId: req.headers['x-user-id'],
          }),
        },
      };
    },
  });
  const { origin } = new URL(url);
  return { info: { origin, path: '/' } };
});
