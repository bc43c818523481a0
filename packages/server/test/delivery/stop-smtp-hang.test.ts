// Engine e2e: a graceful stop is not held up by an SMTP server that hangs; the e-mail it could not send
// stays owed and the next process sends it.
import { once } from 'node:events';
import { type AddressInfo, type Socket, createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, until } from '../support/client.js';
import { startEngine } from '../support/engine.js';
import { addSystem, listDeliveries, startWorld, submitText } from './harness.js';
import { startTestReceiver } from './receiver.js';
import { startTestSmtp } from './smtp.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('graceful stop while the SMTP server hangs', () => {
  it('exits within a few seconds and leaves the e-mail owed for the next process', async () => {
    // Accepts connections and never says a word (not even the greeting).
    const sockets = new Set<Socket>();
    const hanging = createServer((socket) => sockets.add(socket));
    hanging.listen(0, '127.0.0.1');
    await once(hanging, 'listening');
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
    });
    const receiver = await startTestReceiver((_req, res) => {
      res.statusCode = 500;
      res.end('down');
    });
    cleanups.push(() => receiver.close());
    // A 90 s window gives the mailer its longest time-outs (30 s): the hang is not cut short by them.
    const world = await startWorld(
      {
        HOOKSTER_SMTP_URL: `smtp://127.0.0.1:${(hanging.address() as AddressInfo).port}`,
        HOOKSTER_NOTIFY_WINDOW: '90s',
        HOOKSTER_RETRY_SCHEDULE: 'none',
      },
      'holder@example.com',
    );
    cleanups.push(() => world.engine.stop());
    const system = await addSystem(world, receiver.url);
    const { conversationId } = await world.hub.openConversation();
    await submitText(world.client, conversationId, 'fails once, for good');
    await eventually(async () =>
      (await listDeliveries(world, system.integrationId, 'failed')).total === 1 ? true : undefined,
    );
    await until('the exhaustion e-mail is being sent', () => sockets.size > 0);

    const stopping = Date.now();
    const code = await world.engine.kill('SIGTERM');
    const took = Date.now() - stopping;
    expect(code).toBe(0);
    expect(took).toBeLessThan(8_000);

    // The next process on the same file, with a working SMTP server, sends the e-mail still owed.
    const smtp = await startTestSmtp();
    cleanups.push(() => smtp.close());
    const next = await startEngine({
      dbPath: world.engine.dbPath!,
      databaseUrl: world.engine.databaseUrl,
      adminToken: world.engine.adminToken,
      env: { HOOKSTER_SMTP_URL: smtp.url, HOOKSTER_NOTIFY_WINDOW: '1s' },
    });
    cleanups.push(() => next.kill('SIGTERM').then(() => undefined));
    const [mail] = await smtp.waitFor(1, 20_000);
    expect(mail?.to).toEqual(['holder@example.com']);
  }, 90_000);
});
