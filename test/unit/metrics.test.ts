import { describe, expect, it } from 'vitest';
import { GatewayMetrics, statusClass } from '../../src/metrics.js';

async function operationLabels(metrics: GatewayMetrics): Promise<string[]> {
  const metric = await metrics.registry.getSingleMetric('gateway_operations_total')!.get();
  return metric.values.map((v) => String(v.labels.operation));
}

describe('GatewayMetrics', () => {
  it('bounds operation-name labels: over-long names and the 101st distinct name count as "other"', async () => {
    const metrics = new GatewayMetrics();
    metrics.operation('A'.repeat(65), 'ok', 0.001);
    for (let i = 0; i < 101; i++) metrics.operation(`Op${i}`, 'ok', 0.001);
    metrics.operation('Op0', 'error', 0.001);
    const labels = await operationLabels(metrics);
    expect(labels).toContain('other');
    expect(labels).toContain('Op99');
    expect(labels).not.toContain('Op100');
    expect(labels.filter((l) => l.startsWith('Op'))).toHaveLength(101); // Op0..Op99, Op0 twice (ok and error)
  });

  it('names status classes, keeping 429 apart', () => {
    expect([200, 302, 404, 429, 503].map(statusClass)).toEqual(['2xx', '3xx', '4xx', '429', '5xx']);
  });
});
