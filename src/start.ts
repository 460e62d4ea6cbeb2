import type { Config } from './config.js';
import { DEMO_CREDENTIALS, DEMO_LIMITED_CREDENTIALS, SEED_VISITOR_ID } from './demo/visitors.js';
import { startDemoUpstream, type DemoUpstream } from './demo/upstream.js';
import { createLogger } from './logger.js';
import { createGateway, type Gateway } from './gateway.js';
import { readFileSync } from 'node:fs';
import { startTracing } from './tracing.js';

export interface Running {
  gateway: Gateway;
  /** Present in demo mode (no ROCKETCHAT_URL). */
  demo?: DemoUpstream;
  stop(): Promise<void>;
}

/** Starts the gateway, first starting the embedded demo upstream when no Rocket.Chat is configured. */
export async function start(config: Config): Promise<Running> {
  const log = createLogger(config.logLevel);
  // The SDK reads OTEL_* from the process's environment itself; the decision is the config's.
  const tracing = config.tracing ? await startTracing(process.env, packageVersion()) : undefined;
  if (tracing) log.info('tracing on: spans go to the OTLP exporter OTEL_* configures');
  const demo = config.rocketChatUrl ? undefined : await startDemoUpstream({ rateLimit: config.demoRateLimit ?? false });
  const rocketChatUrl = config.rocketChatUrl ?? demo!.url;
  let gateway: Gateway;
  try {
    gateway = await createGateway(
      { ...config, rocketChatUrl },
      {
        log,
        sandboxHeaders: demo ? { 'X-Auth-Token': DEMO_CREDENTIALS.authToken, 'X-User-Id': DEMO_CREDENTIALS.userId } : undefined,
        tracing,
      },
    );
  } catch (err) {
    // A bad manifest, a port in use: nothing started here may outlive the failure.
    await demo?.stop();
    await tracing?.shutdown();
    throw err;
  }
  log.info({ url: gateway.url, rocketChatUrl, demo: !!demo }, 'gateway listening');
  process.stdout.write(banner(gateway.url, rocketChatUrl, !!demo, config));
  return {
    gateway,
    demo,
    async stop() {
      await gateway.stop();
      await demo?.stop();
      // Last, so the spans of the drained requests are exported.
      await tracing?.shutdown();
    },
  };
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** What `npm start` prints: the URL, what serves it, and in demo mode how to try it. */
function banner(url: string, rocketChatUrl: string, demo: boolean, config: Pick<Config, 'production' | 'demoRateLimit' | 'explorer'>): string {
  // The production landing page is a plain page with no explorer, so there is nothing to open there.
  const explorer = config.production
    ? ''
    : config.explorer === 'local'
      ? ' (open it in a browser for GraphiQL, served by the gateway itself)'
      : " (open it in a browser for Apollo Sandbox, loaded from Apollo's CDN; EXPLORER=local serves GraphiQL without it)";
  const lines = [
    '',
    `  livechat-visitor-gateway: GraphQL at ${url}${explorer}`,
    demo ? `  Upstream: embedded demo Rocket.Chat at ${rocketChatUrl} (set ROCKETCHAT_URL to use a real one)` : `  Upstream: Rocket.Chat at ${rocketChatUrl}`,
  ];
  if (demo) {
    const limit = config.demoRateLimit;
    lines.push(
      `  Demo credentials: X-Auth-Token: ${DEMO_CREDENTIALS.authToken}`,
      `                    X-User-Id: ${DEMO_CREDENTIALS.userId}`,
      `  Without view-l-room (answers FORBIDDEN): X-Auth-Token: ${DEMO_LIMITED_CREDENTIALS.authToken}`,
      `                                           X-User-Id: ${DEMO_LIMITED_CREDENTIALS.userId}`,
      limit
        ? `  Demo rate limit: ${limit.limit} calls per ${limit.windowMs / 1000} s per route and client (DEMO_RATE_LIMIT)`
        : "  Demo rate limit: off (DEMO_RATE_LIMIT=10/60 turns on Rocket.Chat's default)",
      '  Try it:',
      `    curl -s ${url} \\`,
      `      -H 'content-type: application/json' \\`,
      `      -H 'X-Auth-Token: ${DEMO_CREDENTIALS.authToken}' \\`,
      `      -H 'X-User-Id: ${DEMO_CREDENTIALS.userId}' \\`,
      `      -d '{"query":"query($id: ID!) { visitor(id: $id) { id username name status emails { address } } }","variables":{"id":"${SEED_VISITOR_ID}"}}'`,
    );
  }
  return lines.join('\n') + '\n\n';
}
