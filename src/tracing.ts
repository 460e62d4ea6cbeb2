import {
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type SpanContext,
  type TextMapPropagator,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Distributed tracing with OpenTelemetry, configured the standard way: the SDK reads every
 * `OTEL_*` variable itself (exporter endpoint and protocol, service name, sampler, batch sizes).
 * Off unless an OTLP endpoint or a traces exporter is named, and then the SDK is never loaded and
 * no code on a request's path does more than test for `undefined`.
 *
 * Spans: the HTTP request (continuing an incoming `traceparent`), the GraphQL operation under it,
 * and each Rocket.Chat attempt under the operation, which carries `traceparent` upstream so
 * Rocket.Chat's own spans join. A call shared by coalescing links the spans that wait on it; a
 * cached answer is a span of its own. Attributes hold route patterns, statuses, counts and a
 * document hash: never a credential, a visitor id, a variable or a body.
 */
export class Tracing {
  readonly #tracer: Tracer;
  readonly #shutdown: () => Promise<void>;
  /** How an incoming request's context is read: the SDK's propagators (OTEL_PROPAGATORS) by default. */
  readonly #incoming: Pick<TextMapPropagator, 'extract'>;
  /** Only W3C trace context goes to Rocket.Chat: the caller's baggage is the caller's. */
  readonly #upstreamPropagator = new W3CTraceContextPropagator();

  constructor(tracer: Tracer, options: { shutdown?: () => Promise<void>; incoming?: TextMapPropagator } = {}) {
    this.#tracer = tracer;
    this.#shutdown = options.shutdown ?? (async () => {});
    this.#incoming = options.incoming ?? { extract: (context, carrier, getter) => propagation.extract(context, carrier, getter) };
  }

  /** The HTTP request's span, a child of the caller's trace when its headers carry one. */
  request(method: string, path: string, headers: IncomingHttpHeaders): Traced {
    const parent = this.#incoming.extract(ROOT_CONTEXT, headers, HEADER_GETTER);
    const span = this.#tracer.startSpan(
      `${method} ${path}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': path, 'http.route': path } },
      parent,
    );
    return { span, context: trace.setSpan(parent, span) };
  }

  /** The GraphQL operation's span; named once the operation is known (`named`). */
  operation(parent: Context | undefined): Traced {
    const span = this.#tracer.startSpan('GraphQL operation', { kind: SpanKind.INTERNAL }, parent ?? ROOT_CONTEXT);
    return { span, context: trace.setSpan(parent ?? ROOT_CONTEXT, span) };
  }

  /**
   * One attempt to call Rocket.Chat: a client span named by the route pattern, whose context goes
   * upstream in `headers` (a copy; the call's own headers are shared by its attempts).
   */
  attempt(
    parent: Context | undefined,
    route: string,
    retry: number,
    headers: Record<string, string>,
    waiters: readonly SpanContext[] = [],
  ): { span: Span; headers: Record<string, string> } {
    const attributes: Record<string, string | number | boolean> = {
      'http.request.method': 'GET',
      'url.template': route,
      'rocketchat.cache.hit': false,
      'rocketchat.coalesced': false,
    };
    if (retry > 0) attributes['http.request.resend_count'] = retry;
    const links = waiters.map((context) => ({ context, attributes: { 'rocketchat.waiter': true } }));
    const span = this.#tracer.startSpan(`GET ${route}`, { kind: SpanKind.CLIENT, attributes, links }, parent ?? ROOT_CONTEXT);
    const carried = { ...headers };
    this.#upstreamPropagator.inject(trace.setSpan(parent ?? ROOT_CONTEXT, span), carried, { set: (carrier, key, value) => (carrier[key] = value) });
    return { span, headers: carried };
  }

  /**
   * A caller waiting on another's identical call in flight: its own span, linked both ways with
   * the attempt it waits on (when one has started).
   */
  coalesced(parent: Context | undefined, route: string, shared: Span | undefined): Span {
    const span = this.#tracer.startSpan(
      `GET ${route}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: { 'url.template': route, 'rocketchat.cache.hit': false, 'rocketchat.coalesced': true },
        links: shared ? [{ context: shared.spanContext() }] : [],
      },
      parent ?? ROOT_CONTEXT,
    );
    shared?.addLink({ context: span.spanContext(), attributes: { 'rocketchat.waiter': true } });
    return span;
  }

  /** An answer the shared cache gave instead of Rocket.Chat. */
  cacheHit(parent: Context | undefined, route: string): void {
    this.#tracer
      .startSpan(`GET ${route}`, { kind: SpanKind.INTERNAL, attributes: { 'url.template': route, 'rocketchat.cache.hit': true } }, parent ?? ROOT_CONTEXT)
      .end();
  }

  /** Flushes the spans not yet exported. */
  shutdown(): Promise<void> {
    return this.#shutdown();
  }
}

/** Reads Node's incoming headers (lower-case names; a repeated header is its first value). */
const HEADER_GETTER = {
  keys: (carrier: IncomingHttpHeaders) => Object.keys(carrier),
  get: (carrier: IncomingHttpHeaders, key: string) => {
    const value = carrier[key.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  },
};

export interface Traced {
  span: Span;
  context: Context;
}

/** The ids log lines carry, from the span a context holds; none without one. */
export function traceIds(context: Context | undefined): { traceId: string; spanId: string } | undefined {
  const span = context && trace.getSpan(context);
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}

/** Ends a span with the outcome: an error status and `error.type` for a failure. */
export function endSpan(span: Span, failure?: { code: string }): void {
  if (failure) {
    span.setAttribute('error.type', failure.code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: failure.code });
  }
  span.end();
}

/**
 * Whether the environment asks for traces: an OTLP endpoint, or a traces exporter other than
 * `none`, and the SDK not disabled. The standard variables, read the standard way.
 */
export function tracingRequested(env: Record<string, string | undefined>): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporter === 'none') return false;
  return !!(exporter || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/**
 * Starts OpenTelemetry's Node SDK when the environment asks for traces, else answers undefined
 * without loading it. The SDK takes the exporter, protocol, sampler, resource and propagators from
 * `OTEL_*`; the gateway only turns off what it does not export (metrics and logs have their own
 * paths: /metrics and stdout) and adds no instrumentation, since its own spans are the ones that
 * know which parts of a URL are secret.
 */
export async function startTracing(env: Record<string, string | undefined>, serviceVersion: string): Promise<Tracing | undefined> {
  if (!tracingRequested(env)) return undefined;
  const { NodeSDK, resources } = await import('@opentelemetry/sdk-node');
  // The gateway's name unless the environment names the service (either standard way).
  const named = env.OTEL_SERVICE_NAME || /(^|,)\s*service\.name\s*=/.test(env.OTEL_RESOURCE_ATTRIBUTES ?? '');
  const sdk = new NodeSDK({
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
    // Not the process detector: a command line (process.command_args) is no place to trust to
    // hold nothing secret, and every span would carry it.
    resourceDetectors: [resources.envDetector, resources.hostDetector, resources.osDetector],
    ...(named ? {} : { serviceName: 'livechat-visitor-gateway' }),
  });
  sdk.start();
  return new Tracing(trace.getTracer('livechat-visitor-gateway', serviceVersion), { shutdown: () => sdk.shutdown() });
}
