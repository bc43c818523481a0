// Engine e2e: whatever bytes a receiver answers, the attempt is recorded once, with its excerpt,
// on SQLite and on PostgreSQL (whose text columns cannot hold NUL characters).
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { dropSchemas, freshSchemaUrl, postgresAvailable } from '../../src/store/postgres/test-database.js';
import { type DeliveryWorld, addSystem, finalDelivery, startWorld, submitText } from './harness.js';
import { type TestReceiver, startTestReceiver } from './receiver.js';

const pgAvailable = await postgresAvailable();
const schemas: string[] = [];
const receivers: TestReceiver[] = [];
afterEach(async () => {
  for (const receiver of receivers.splice(0)) await receiver.close();
});
afterAll(async () => {
  if (pgAvailable) await dropSchemas(schemas);
});

const stores: [name: string, env: () => Record<string, string>, run: boolean][] = [
  ['SQLite', () => ({}), true],
  [
    'PostgreSQL',
    () => {
      const { url, schema } = freshSchemaUrl('excerpt');
      schemas.push(schema);
      return { HOOKSTER_DATABASE_URL: url };
    },
    pgAvailable,
  ],
];

describe.each(stores)('response excerpts on %s', (_name, env, run) => {
  it.runIf(run)('records a 200 whose body holds a NUL byte as delivered, after one request', async () => {
    const receiver = await startTestReceiver((_req, res) => res.end(Buffer.from('ok\u0000done', 'utf8')));
    receivers.push(receiver);
    // A short lease: an attempt that cannot be recorded is sent again once it expires (~1.3 s).
    const world: DeliveryWorld = await startWorld({ HOOKSTER_DELIVERY_TIMEOUT: '300ms', ...env() });
    try {
      const system = await addSystem(world, receiver.url);
      const { conversationId } = await world.hub.openConversation();
      await submitText(world.client, conversationId, 'hello');
      const delivery = await finalDelivery(world, system.integrationId, 8_000);
      expect(delivery.status).toBe('delivered');
      expect(delivery.attempts).toHaveLength(1);
      expect(delivery.attempts[0]?.statusCode).toBe(200);
      expect(delivery.attempts[0]?.responseExcerpt).toBe('ok\ufffddone');
      expect(receiver.requests).toHaveLength(1);
    } finally {
      await world.engine.stop();
    }
  });
});
