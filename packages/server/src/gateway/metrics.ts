// Prometheus metrics of the gateway, registered on the engine's registry when one is given.

import { Counter, Gauge, type Registry } from 'prom-client';

export interface GatewayMetrics {
  pushes: Counter<'outcome'>;
  slowConsumerDrops: Counter;
}

export function createGatewayMetrics(
  registry: Registry | undefined,
  connections: () => number,
): GatewayMetrics {
  const registers = registry ? [registry] : [];
  new Gauge({
    name: 'hookster_websocket_connections',
    help: 'Open hub (websocket) connections of this process.',
    registers,
    collect() {
      this.set(connections());
    },
  });
  return {
    pushes: new Counter({
      name: 'hookster_websocket_deliveries_total',
      help: 'Websocket deliveries by outcome: delivered (pushed to at least one connection) or no_connection.',
      labelNames: ['outcome'],
      registers,
    }),
    slowConsumerDrops: new Counter({
      name: 'hookster_websocket_slow_consumer_drops_total',
      help: 'Connections dropped because their send buffer passed the limit.',
      registers,
    }),
  };
}
