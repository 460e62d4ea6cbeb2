/**
 * The gateway as bench/contenders/gateway.mjs runs it, with OpenTelemetry tracing on at 100 %
 * sampling, exporting over OTLP/HTTP (the SDK's default protobuf) to the sink at OTLP_SINK_URL:
 * what tracing costs, measured in the same run as the gateway without it.
 */
import { fileURLToPath } from 'node:url';
import { runChild } from '../lib/child.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dist = new URL('dist/', `file://${root}`);
const { loadConfig } = await import(new URL('config.js', dist).href);
const { createGateway } = await import(new URL('gateway.js', dist).href);
const { startTracing } = await import(new URL('tracing.js', dist).href);

runChild(async () => {
  // The SDK reads these from the process's environment, as it would in production.
  Object.assign(process.env, {
    OTEL_EXPORTER_OTLP_ENDPOINT: process.env.OTLP_SINK_URL,
    OTEL_TRACES_SAMPLER: 'always_on',
    OTEL_SERVICE_NAME: 'lvg-bench',
  });
  const tracing = await startTracing(process.env, 'bench');
  if (!tracing) throw new Error('tracing did not start');
  const gateway = await createGateway(
    loadConfig({ ROCKETCHAT_URL: process.env.UPSTREAM_URL, PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'production', LOG_LEVEL: 'silent' }),
    { tracing },
  );
  return { info: { origin: `http://127.0.0.1:${gateway.port}`, path: '/graphql' } };
});
