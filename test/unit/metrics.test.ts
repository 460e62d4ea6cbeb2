import { describe, expect, it } from 'vitest';
import { GatewayMetrics, statusClass } from '../../src/metrics.js';

async function operationLabels(metrics: GatewayMetrics): Promise<string[]> {
  const metric = await metrics.registry.getSingleMetric('gateway_operations_total')!.get();
  return metric.values.map((v) => String(v.labels.operation));
}

describe('GatewayMetrics', () => {
  it('bounds operation-name labels: over-long names and the 101st distinct name count as "other"', async () => {
    const metrics = new GatewayMetrics();
    metrics.operation('A'.repeat(65), undefined, 0.001);
    for (let i = 0; i < 101; i++) metrics.operation(`Op${i}`, undefined, 0.001);
    metrics.operation('Op0', 'NOT_FOUND', 0.001);
    const labels = await operationLabels(metrics);
    expect(labels).toContain('other');
    expect(labels).toContain('Op99');
    expect(labels).not.toContain('Op100');
    expect(labels.filter((l) => l.startsWith('Op'))).toHaveLength(101); // Op0..Op99, Op0 twice (ok and error)
  });

  it('labels the first error code from the catalogue: none without errors, other outside it; outcome follows', async () => {
    const metrics = new GatewayMetrics();
    metrics.operation('A', undefined, 0.001);
    metrics.operation('A', 'RATE_LIMITED', 0.001);
    metrics.operation('A', 'SOMETHING_A_PLUGIN_MADE_UP', 0.001);
    metrics.refusedRequest('PERSISTED_DOCUMENT_REQUIRED', 0.001);
    const metric = await metrics.registry.getSingleMetric('gateway_operations_total')!.get();
    const rows = metric.values.map((v) => `${v.labels.operation}|${v.labels.outcome}|${v.labels.code}=${v.value}`).sort();
    expect(rows).toEqual(['A|error|RATE_LIMITED=1', 'A|error|other=1', 'A|ok|none=1', 'other|error|PERSISTED_DOCUMENT_REQUIRED=1']);
  });

  it('names status classes, keeping 429 apart', () => {
    expect([200, 302, 404, 429, 503].map(statusClass)).toEqual(['2xx', '3xx', '4xx', '429', '5xx']);
  });
});
