import { Counter, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS } from '../observability/metrics.js';
import type { InquiryObserver } from './inquiry-core.js';

/** Channel inquiries on the switch's registry: `jht_inquiries_total{channel,outcome}` and their latency by channel. */
export function createInquiryMetrics(registry: Registry, prefix = 'jht_'): InquiryObserver {
  const total = new Counter({
    name: `${prefix}inquiries_total`,
    help: 'Balance inquiries through the inquiry core, by channel and outcome (answered, not-found, ...)',
    labelNames: ['channel', 'outcome'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: `${prefix}inquiry_latency_seconds`,
    help: 'Time from receiving an inquiry to its outcome, by channel',
    labelNames: ['channel'] as const,
    buckets: [...LATENCY_BUCKETS_SECONDS],
    registers: [registry],
  });
  // Channel and outcome come from the code (a fixed set each), never from a request.
  return {
    inquiry(channel, outcome, latencySeconds) {
      total.inc({ channel, outcome });
      latency.observe({ channel }, latencySeconds);
    },
  };
}
