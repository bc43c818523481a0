// Engine e2e: a delivery exhausts its attempts, is notified once and e-mailed, then a digest follows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/client.js';
import {
  type DeliveryWorld,
  addSystem,
  finalDelivery,
  listDeliveries,
  startWorld,
  submitText,
} from './harness.js';
import { type TestReceiver, startTestReceiver } from './receiver.js';
import { type TestSmtp, mailText, startTestSmtp } from './smtp.js';

const EMAIL = 'holder@example.com';
const WINDOW_MS = 3000;
const FAST = { retrySchedule: '50ms,50ms,50ms,50ms,50ms', deliveryTimeout: '500ms' };

interface NotificationView {
  notificationId: string;
  integrationId: string;
  deliveryId?: string;
  code: number;
  caption: string;
  details: string;
}

let world: DeliveryWorld;
let smtp: TestSmtp;
let hook: TestReceiver;

beforeAll(async () => {
  smtp = await startTestSmtp();
  hook = await startTestReceiver((_req, res) => res.writeHead(500).end('database down'));
  world = await startWorld(
    {
      HOOKSTER_SMTP_URL: smtp.url,
      HOOKSTER_SMTP_FROM: 'Hookster <noreply@example.com>',
      HOOKSTER_NOTIFY_WINDOW: `${WINDOW_MS}ms`,
    },
    EMAIL,
  );
});
afterAll(async () => {
  await world?.engine.stop();
  await hook?.close();
  await smtp?.close();
});

async function notificationsOf(integrationId: string): Promise<NotificationView[]> {
  const response = await world.client.get<{ results: NotificationView[] }>(
    '/api/v1/notifications?pageSize=100',
  );
  return response.body.results.filter((n) => n.integrationId === integrationId);
}

describe('exhaustion', () => {
  it('fails after six attempts, stores one notification and e-mails the account holder once, then a digest', async () => {
    const system = await addSystem(world, hook.url, FAST);
    const { conversationId } = await world.hub.openConversation();
    await submitText(world.client, conversationId, 'never delivered');

    const delivery = await finalDelivery(world, system.integrationId);
    expect(delivery.status).toBe('failed');
    expect(delivery.attempts.map((a) => a.attemptNumber)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(
      delivery.attempts.every((a) => a.statusCode === 500 && a.responseExcerpt === 'database down'),
    ).toBe(true);
    expect(hook.requests).toHaveLength(6);

    const [notification, ...more] = await eventually(async () => {
      const found = await notificationsOf(system.integrationId);
      return found.length > 0 ? found : undefined;
    });
    expect(more).toHaveLength(0);
    expect(notification).toMatchObject({ code: 7512, deliveryId: delivery.deliveryId });
    expect(notification?.caption).toMatch(/Unreachable web-endpoint/);
    expect(notification?.details).toContain(hook.url);
    expect(notification?.details).toContain('6 attempts');
    expect(notification?.details).toContain('last status 500');

    const [mail] = await smtp.waitFor(1);
    expect(mail?.to).toEqual([EMAIL]);
    const text = mailText(mail?.raw ?? '');
    expect(text).toContain('1 webhook delivery');
    expect(text).toContain('last status 500');
    expect(text).toContain(hook.url);
    expect(text).toContain(delivery.deliveryId);

    // Two more failures inside the window: no e-mail now, one digest naming both when the window ends.
    const first = mail?.at ?? 0;
    // Separate conversations, so the two are not batched into one System delivery.
    for (const text of ['second', 'third']) {
      const other = await world.hub.openConversation();
      await submitText(world.client, other.conversationId, text);
    }
    await eventually(async () => {
      const failed = await listDeliveries(world, system.integrationId, 'failed');
      return failed.total >= 3 ? failed : undefined;
    });
    // The notification is stored right after the failure is recorded.
    await eventually(async () =>
      (await notificationsOf(system.integrationId)).length >= 3 ? true : undefined,
    );
    expect(await notificationsOf(system.integrationId)).toHaveLength(3);
    const mails = await smtp.waitFor(2, WINDOW_MS + 10_000);
    expect(mails).toHaveLength(2);
    const digest = mails[1];
    // The window starts when the engine takes it for the first e-mail: after the sixth attempt ended, and
    // before that e-mail reached the SMTP server (by however long sending it took). So the digest comes
    // a window after the last attempt's end at the earliest (5 ms for timer and millisecond rounding).
    const last = delivery.attempts[delivery.attempts.length - 1]!;
    const lastEnd = Date.parse(last.startedAt) + last.durationMs;
    expect(first).toBeGreaterThanOrEqual(lastEnd - 5);
    expect((digest?.at ?? 0) - lastEnd).toBeGreaterThanOrEqual(WINDOW_MS - 5);
    const digestText = mailText(digest?.raw ?? '');
    expect(digestText).toContain('2 webhook deliveries');
    expect(digestText).toContain('2 × last status 500');

    // The command the e-mail quotes resends the deliveries it names. Before, it quoted when they gave up
    // and recover (which compares creation times) found none of them.
    const command = /POST (\S+) (\{.*\})/.exec(digestText);
    expect(command).not.toBeNull();
    const recovered = await world.client.post(command![1]!, JSON.parse(command![2]!));
    expect(recovered.status).toBe(200);
    expect(recovered.body).toMatchObject({ recovered: 2 });
  });

  it('records a refused egress as a failed attempt with its reason and notifies on exhaustion', async () => {
    // The test engine allows only 127.0.0.1/32: another loopback address is refused before connecting.
    const url = `http://127.0.0.2:${hook.port}/hook`;
    const system = await addSystem(world, url, FAST);
    const { conversationId } = await world.hub.openConversation();
    await submitText(world.client, conversationId, 'to a refused address');
    const delivery = await finalDelivery(world, system.integrationId);
    expect(delivery.status).toBe('failed');
    expect(delivery.attempts).toHaveLength(6);
    for (const attempt of delivery.attempts) {
      expect(attempt.error).toBe('egress refused: 127.0.0.2 is loopback');
      expect(attempt.statusCode).toBeUndefined();
    }
    const notifications = await eventually(async () => {
      const found = await notificationsOf(system.integrationId);
      return found.length > 0 ? found : undefined;
    });
    expect(notifications).toHaveLength(1);
    expect(notifications[0]?.details).toContain('last error: egress refused: 127.0.0.2 is loopback');
    expect(notifications[0]?.details).toContain(url);
  });
});
