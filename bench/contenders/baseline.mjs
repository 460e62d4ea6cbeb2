/**
 * What the gateway must beat by 2.5×: the same schema served the way Apollo's documentation teaches,
 * Apollo Server's standalone HTTP server and a RESTDataSource per request. Deliberately untuned.
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
  const server = new ApolloServer({ typeDefs: loadSdl(), resolvers });
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
