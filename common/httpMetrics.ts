import type { FastifyInstance } from 'fastify';
import fastifyMetricsModule from 'fastify-metrics';
import type { Registry } from 'prom-client';
import { WAIT_BUCKETS } from './metrics.ts';

/**
 * Counts and times HTTP requests by method, route (the route's pattern, not the URL, so that
 * meeting ids do not make a series each) and status, with fastify-metrics. Must be awaited
 * before routes are added: the plugin learns the routes from fastify's onRoute hook. Requests
 * for no route are counted under route "__unknown__". /metrics is served by main.ts from the
 * same registry, so the plugin serves nothing and adds no default metrics of its own.
 */
export async function installHttpMetrics(app: FastifyInstance, registry: Registry): Promise<void> {
  // A CommonJS module whose plugin is its `default` export: Node hands ESM the whole exports object.
  await app.register(fastifyMetricsModule.default, {
    endpoint: null,
    defaultMetrics: { enabled: false },
    routeMetrics: {
      enabled: { histogram: true, summary: false },
      registeredRoutesOnly: false,
      invalidRouteGroup: '__unknown__',
      overrides: {
        histogram: {
          name: 'convene_http_request_duration_seconds',
          help: 'HTTP requests by method, route pattern and status code, and how long they took',
          buckets: WAIT_BUCKETS,
          registers: [registry],
        },
      },
    },
  });
}
