import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { tracing as sdk } from '@opentelemetry/sdk-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/rocketchat/client.js';
import { endSpan, startTracing, traceIds, Tracing, tracingRequested } from '../../src/tracing.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`;
const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

describe('tracingRequested', () => {
  const ENDPOINT = 'http://127.0.0.1:4318';
  const cases: Array<[string, Record<string, string | undefined>, boolean]> = [
    ['nothing set', {}, false],
    ['only unrelated OTEL_* variables', { OTEL_SERVICE_NAME: 'x', OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, false],
    ['an OTLP endpoint', { OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT }, true],
    ['an OTLP traces endpoint', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${ENDPOINT}/v1/traces` }, true],
    ['an empty OTLP endpoint', { OTEL_EXPORTER_OTLP_ENDPOINT: '' }, false],
    ['a blank OTLP endpoint', { OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }, false],
    ['a blank OTLP traces endpoint', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: ' ' }, false],
    ['a traces exporter (otlp)', { OTEL_TRACES_EXPORTER: 'otlp' }, true],
    ['a traces exporter (console)', { OTEL_TRACES_EXPORTER: 'console' }, true],
    ['an empty traces exporter', { OTEL_TRACES_EXPORTER: '' }, false],
    ['traces exporter none', { OTEL_TRACES_EXPORTER: 'none' }, false],
    ['traces exporter " NONE " (trimmed, any case)', { OTEL_TRACES_EXPORTER: ' NONE ' }, false],
    ['traces exporter none beats an endpoint', { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT }, false],
    ['traces exporter none beats a traces endpoint', { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: ENDPOINT }, false],
    ['SDK disabled beats an endpoint', { OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT }, false],
    ['SDK disabled " TRUE " beats an exporter', { OTEL_SDK_DISABLED: ' TRUE ', OTEL_TRACES_EXPORTER: 'otlp' }, false],
    ['SDK disabled alone', { OTEL_SDK_DISABLED: 'true' }, false],
    ['SDK disabled "false" with an endpoint', { OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT }, true],
    ['SDK disabled "" with an endpoint', { OTEL_SDK_DISABLED: '', OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT }, true],
    ['an endpoint and an exporter', { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT }, true],
  ];
  for (const [name, env, expected] of cases) {
    it(`${name} → ${expected}`, () => {
      expect(tracingRequested(env)).toBe(expected);
    });
  }

  it('startTracing answers undefined without loading the SDK when nothing asks for traces', async () => {
    expect(await startTracing({}, '0.0.0')).toBeUndefined();
    expect(await startTracing({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' }, '0.0.0')).toBeUndefined();
  });
});

describe('Tracing with an in-memory provider', () => {
  let exporter: InstanceType<typeof sdk.InMemorySpanExporter>;
  let provider: InstanceType<typeof sdk.BasicTracerProvider>;
  let tracing: Tracing;

  beforeEach(() => {
    exporter = new sdk.InMemorySpanExporter();
    provider = new sdk.BasicTracerProvider({ spanProcessors: [new sdk.SimpleSpanProcessor(exporter)] });
    tracing = new Tracing(provider.getTracer('test'), { incoming: new W3CTraceContextPropagator() });
  });
  afterEach(async () => {
    await provider.shutdown();
  });

  const finished = () => exporter.getFinishedSpans();
  const byId = (spanId: string) => {
    const span = finished().find((s) => s.spanContext().spanId === spanId);
    if (!span)
      throw new Error(
        `no finished span ${spanId}; have ${finished()
          .map((s) => s.name)
          .join(', ')}`,
      );
    return span;
  };

  describe('request()', () => {
    it('continues an incoming traceparent: same trace id, parent = the header span id', () => {
      const { span, context } = tracing.request('POST', '/graphql', { traceparent: TRACEPARENT, 'x-auth-token': 'secret' });
      expect(trace.getSpan(context)).toBe(span);
      span.end();
      const done = byId(span.spanContext().spanId);
      expect(done.name).toBe('POST /graphql');
      expect(done.kind).toBe(SpanKind.SERVER);
      expect(done.spanContext().traceId).toBe(TRACE_ID);
      expect(done.spanContext().spanId).not.toBe(PARENT_SPAN_ID);
      expect(done.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
      expect(done.parentSpanContext?.traceId).toBe(TRACE_ID);
      expect(done.parentSpanContext?.isRemote).toBe(true);
      expect(done.attributes).toEqual({ 'http.request.method': 'POST', 'url.path': '/graphql', 'http.route': '/graphql' });
    });

    it('reads the first value of a repeated traceparent header', () => {
      const other = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`;
      const { span } = tracing.request('POST', '/graphql', { traceparent: [TRACEPARENT, other] as unknown as string });
      expect(span.spanContext().traceId).toBe(TRACE_ID);
      span.end();
    });

    it('starts a new trace without a traceparent (or with a malformed one)', () => {
      const a = tracing.request('POST', '/graphql', {});
      const b = tracing.request('POST', '/graphql', { traceparent: 'not-a-traceparent' });
      a.span.end();
      b.span.end();
      for (const s of [a.span, b.span]) {
        const done = byId(s.spanContext().spanId);
        expect(done.spanContext().traceId).toMatch(HEX32);
        expect(done.spanContext().traceId).not.toBe(TRACE_ID);
        expect(done.parentSpanContext).toBeUndefined();
      }
      expect(a.span.spanContext().traceId).not.toBe(b.span.spanContext().traceId);
    });
  });

  describe('operation()', () => {
    it('is an internal child of the request span, and a root span without a parent', () => {
      const request = tracing.request('POST', '/graphql', { traceparent: TRACEPARENT });
      const op = tracing.operation(request.context);
      expect(trace.getSpan(op.context)).toBe(op.span);
      const orphan = tracing.operation(undefined);
      op.span.end();
      orphan.span.end();
      request.span.end();
      const done = byId(op.span.spanContext().spanId);
      expect(done.name).toBe('GraphQL operation');
      expect(done.kind).toBe(SpanKind.INTERNAL);
      expect(done.spanContext().traceId).toBe(TRACE_ID);
      expect(done.parentSpanContext?.spanId).toBe(request.span.spanContext().spanId);
      expect(byId(orphan.span.spanContext().spanId).parentSpanContext).toBeUndefined();
    });
  });

  describe('attempt()', () => {
    it('returns headers with a traceparent naming the attempt span, keeps the given headers, leaves the input alone', () => {
      const request = tracing.request('POST', '/graphql', { traceparent: TRACEPARENT });
      const op = tracing.operation(request.context);
      const given = { accept: 'application/json', 'X-Auth-Token': 'tok', 'X-User-Id': 'uid', 'X-Request-Id': 'req-1' };
      const before = { ...given };
      const { span, headers } = tracing.attempt(op.context, ROUTES.visitorsInfo, 0, given);
      expect(given).toEqual(before);
      expect(Object.keys(given)).not.toContain('traceparent');
      expect(headers).not.toBe(given);
      expect(headers).toEqual({ ...before, traceparent: `00-${TRACE_ID}-${span.spanContext().spanId}-01` });
      span.end();
      const done = byId(span.spanContext().spanId);
      expect(done.name).toBe(`GET ${ROUTES.visitorsInfo}`);
      expect(done.kind).toBe(SpanKind.CLIENT);
      expect(done.parentSpanContext?.spanId).toBe(op.span.spanContext().spanId);
      expect(done.attributes).toEqual({
        'http.request.method': 'GET',
        'url.template': ROUTES.visitorsInfo,
        'rocketchat.cache.hit': false,
        'rocketchat.coalesced': false,
      });
    });

    it('counts retries in http.request.resend_count (absent on the first attempt)', () => {
      const first = tracing.attempt(undefined, ROUTES.usersInfo, 0, {});
      const third = tracing.attempt(undefined, ROUTES.usersInfo, 2, {});
      first.span.end();
      third.span.end();
      expect(byId(first.span.spanContext().spanId).attributes).not.toHaveProperty('http.request.resend_count');
      expect(byId(third.span.spanContext().spanId).attributes['http.request.resend_count']).toBe(2);
    });

    it('adds no baggage upstream even when the incoming context carries baggage', () => {
      const withBaggage = new Tracing(provider.getTracer('test'), {
        incoming: new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
      });
      const request = withBaggage.request('POST', '/graphql', { traceparent: TRACEPARENT, baggage: 'k=v,user=alice' });
      // The incoming context really did carry it, so the absence below is the attempt's doing.
      expect(propagation.getBaggage(request.context)?.getEntry('k')?.value).toBe('v');
      const op = withBaggage.operation(request.context);
      const { span, headers } = withBaggage.attempt(op.context, ROUTES.visitorsInfo, 0, { accept: 'application/json' });
      expect(Object.keys(headers).map((k) => k.toLowerCase())).not.toContain('baggage');
      expect(headers.traceparent).toBe(`00-${TRACE_ID}-${span.spanContext().spanId}-01`);
      expect(JSON.stringify(headers)).not.toContain('alice');
      span.end();

      // Baggage set on the context directly, not through a propagator, stays home too.
      const direct = propagation.setBaggage(op.context, propagation.createBaggage({ k: { value: 'v' } }));
      const second = tracing.attempt(direct, ROUTES.visitorsInfo, 0, {});
      expect(Object.keys(second.headers)).toEqual(['traceparent']);
      second.span.end();
    });

    it('carries the caller\'s "not sampled" decision upstream', () => {
      const request = tracing.request('POST', '/graphql', { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-00` });
      const op = tracing.operation(request.context);
      const { span, headers } = tracing.attempt(op.context, ROUTES.visitorsInfo, 0, {});
      expect(span.isRecording()).toBe(false);
      expect(span.spanContext().traceFlags & TraceFlags.SAMPLED).toBe(0);
      expect(headers.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));
      span.end();
      op.span.end();
      request.span.end();
      expect(finished()).toEqual([]);
    });

    it('starts its own trace without a parent context', () => {
      const { span, headers } = tracing.attempt(undefined, ROUTES.visitorsInfo, 0, {});
      span.end();
      const done = byId(span.spanContext().spanId);
      expect(done.parentSpanContext).toBeUndefined();
      expect(headers.traceparent).toBe(`00-${done.spanContext().traceId}-${done.spanContext().spanId}-01`);
    });
  });

  describe('coalesced()', () => {
    it('is an internal span linked to the shared attempt, and the attempt links back', () => {
      const first = tracing.operation(tracing.request('POST', '/graphql', {}).context);
      const second = tracing.operation(tracing.request('POST', '/graphql', {}).context);
      const attempt = tracing.attempt(first.context, ROUTES.visitorsInfo, 0, {});
      const waiter = tracing.coalesced(second.context, ROUTES.visitorsInfo, attempt.span);
      attempt.span.end();
      waiter.end();
      const a = byId(attempt.span.spanContext().spanId);
      const w = byId(waiter.spanContext().spanId);
      expect(w.name).toBe(`GET ${ROUTES.visitorsInfo}`);
      expect(w.kind).toBe(SpanKind.INTERNAL);
      expect(w.parentSpanContext?.spanId).toBe(second.span.spanContext().spanId);
      expect(w.spanContext().traceId).toBe(second.span.spanContext().traceId);
      expect(w.attributes).toEqual({ 'url.template': ROUTES.visitorsInfo, 'rocketchat.cache.hit': false, 'rocketchat.coalesced': true });
      expect(w.links.map((l) => l.context.spanId)).toEqual([a.spanContext().spanId]);
      expect(w.links[0]!.context.traceId).toBe(a.spanContext().traceId);
      expect(a.links.map((l) => l.context.spanId)).toEqual([w.spanContext().spanId]);
      expect(a.links[0]!.attributes).toEqual({ 'rocketchat.waiter': true });
      expect(a.attributes['rocketchat.coalesced']).toBe(false);
    });

    it('has no link when no attempt has started yet', () => {
      const waiter = tracing.coalesced(undefined, ROUTES.usersInfo, undefined);
      waiter.end();
      const w = byId(waiter.spanContext().spanId);
      expect(w.links).toEqual([]);
      expect(w.attributes['rocketchat.coalesced']).toBe(true);
    });
  });

  describe('cacheHit()', () => {
    it('ends an internal span with rocketchat.cache.hit=true under the operation', () => {
      const op = tracing.operation(tracing.request('POST', '/graphql', { traceparent: TRACEPARENT }).context);
      tracing.cacheHit(op.context, ROUTES.departmentList);
      expect(finished()).toHaveLength(1);
      const [hit] = finished();
      expect(hit!.ended).toBe(true);
      expect(hit!.name).toBe(`GET ${ROUTES.departmentList}`);
      expect(hit!.kind).toBe(SpanKind.INTERNAL);
      expect(hit!.parentSpanContext?.spanId).toBe(op.span.spanContext().spanId);
      expect(hit!.spanContext().traceId).toBe(TRACE_ID);
      expect(hit!.attributes).toEqual({ 'url.template': ROUTES.departmentList, 'rocketchat.cache.hit': true });
    });
  });

  describe('traceIds()', () => {
    it('names the trace and span a context holds; nothing without one', () => {
      expect(traceIds(undefined)).toBeUndefined();
      expect(traceIds(ROOT_CONTEXT)).toBeUndefined();
      const request = tracing.request('POST', '/graphql', { traceparent: TRACEPARENT });
      const op = tracing.operation(request.context);
      expect(traceIds(request.context)).toEqual({ traceId: TRACE_ID, spanId: request.span.spanContext().spanId });
      expect(traceIds(op.context)).toEqual({ traceId: TRACE_ID, spanId: op.span.spanContext().spanId });
      expect(traceIds(op.context)!.spanId).toMatch(HEX16);
      expect(Object.keys(traceIds(op.context)!)).toEqual(['traceId', 'spanId']);
    });
  });

  describe('endSpan()', () => {
    it('without a failure ends the span with an unset status and no error.type', () => {
      const { span } = tracing.operation(undefined);
      endSpan(span);
      const done = byId(span.spanContext().spanId);
      expect(done.ended).toBe(true);
      expect(done.status.code).toBe(SpanStatusCode.UNSET);
      expect(done.attributes).not.toHaveProperty('error.type');
    });

    it('with a failure sets status ERROR and error.type to the code', () => {
      const { span } = tracing.operation(undefined);
      endSpan(span, { code: 'UPSTREAM_UNAVAILABLE' });
      const done = byId(span.spanContext().spanId);
      expect(done.ended).toBe(true);
      expect(done.status).toEqual({ code: SpanStatusCode.ERROR, message: 'UPSTREAM_UNAVAILABLE' });
      expect(done.attributes['error.type']).toBe('UPSTREAM_UNAVAILABLE');
    });
  });

  describe('shutdown()', () => {
    it('calls the shutdown it was given, and has a harmless default', async () => {
      let calls = 0;
      const withShutdown = new Tracing(provider.getTracer('test'), { shutdown: async () => void calls++ });
      await withShutdown.shutdown();
      expect(calls).toBe(1);
      await expect(new Tracing(provider.getTracer('test')).shutdown()).resolves.toBeUndefined();
    });
  });

  it("without `incoming`, reads the incoming context through the global propagator (the SDK's)", () => {
    const defaults = new Tracing(provider.getTracer('test'));
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    try {
      const { span } = defaults.request('POST', '/graphql', { traceparent: TRACEPARENT });
      expect(span.spanContext().traceId).toBe(TRACE_ID);
      span.end();
    } finally {
      propagation.disable();
    }
    // With no global propagator (the API's no-op), a traceparent is not read.
    const { span } = defaults.request('POST', '/graphql', { traceparent: TRACEPARENT });
    expect(span.spanContext().traceId).not.toBe(TRACE_ID);
    span.end();
  });
});
