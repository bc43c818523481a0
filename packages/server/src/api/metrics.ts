// Prometheus metrics of one engine process (GET /metrics). Counters are label-free or low-cardinality
// so the hot submit path only pays an increment.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  submitted: Counter;
  deliveries: Counter<'outcome'>;
  attemptDuration: Histogram<'outcome'>;
  queueDepth: Gauge;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hookster_' });
  return {
    registry,
    submitted: new Counter({
      name: 'hookster_activities_submitted_total',
      help: 'Activities submitted and committed through the inbound API.',
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'hookster_delivery_attempts_total',
      help: 'Webhook delivery attempts by outcome (delivered, retry, failed).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    attemptDuration: new Histogram({
      name: 'hookster_delivery_attempt_seconds',
      help: 'Duration of webhook delivery attempts.',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'hookster_deliveries_in_flight',
      help: 'Webhook deliveries in flight in this process.',
      registers: [registry],
    }),
  };
}
