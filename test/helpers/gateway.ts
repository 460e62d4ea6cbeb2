import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../src/config.js';
import { DEMO_CREDENTIALS } from '../../src/demo/visitors.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/gateway.js';

export const DEMO_HEADERS = {
  'x-auth-token': DEMO_CREDENTIALS.authToken,
  'x-user-id': DEMO_CREDENTIALS.userId,
} as const;

export interface TestGateway extends Gateway {
  config: Config;
  /** Every log line the gateway wrote, parsed. */
  logs: Record<string, unknown>[];
  /** POSTs one GraphQL operation; returns the HTTP status, headers and parsed body. */
  post(body: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: GraphQLBody }>;
}

export interface GraphQLBody {
  data?: Record<string, any> | null;
  errors?: Array<{ message: string; path?: (string | number)[]; extensions?: Record<string, any> }>;
}

/** A gateway on a free loopback port, logging into memory, pointed at `upstreamUrl`. */
export async function startTestGateway(upstreamUrl: string, env: Record<string, string> = {}, options: GatewayOptions = {}): Promise<TestGateway> {
  const config = loadConfig({
    ROCKETCHAT_URL: upstreamUrl,
    PORT: '0',
    HOST: '127.0.0.1',
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    ...env,
  });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  const log: Logger = options.log ?? createLogger(config.logLevel, sink);
  const gateway = await createGateway(config, { ...options, log });
  return {
    ...gateway,
    config,
    logs,
    async post(body, headers = {}) {
      const res = await fetch(gateway.url, {
        method: 'POST',
        // What Apollo Client, urql and graphql-request send: with it, a request that cannot run answers
        // 400 (under application/json alone it answers 200; see http.test.ts).
        headers: { 'content-type': 'application/json', accept: GRAPHQL_RESPONSE_ACCEPT, ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: GraphQLBody;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { errors: [{ message: text }] };
      }
      return { status: res.status, headers: res.headers, body: parsed };
    },
  };
}

export const GRAPHQL_RESPONSE_ACCEPT = 'application/graphql-response+json, application/json;q=0.9';

export const VISITOR_FIELDS = `
  id username name status createdAt updatedAt token departmentId
  phones { phoneNumber } emails { address }
  lastChat { id startedAt } lastAgent { agentId username assignedAt }
  contactManager { id username name emails { address } }
  customFields externalIds { appId entityId metadata }
  userAgent ip host activity disabled
`;
