import { describe, expect, it } from 'vitest';
import type { Notification } from '../domain/types.js';
import { digestMail, oneLine } from './digest.js';
import { exhaustionNotification, type ExhaustedDelivery } from './exhaustion.js';

const failure: ExhaustedDelivery = {
  deliveryId: '00000000-0000-0000-0000-000000000001',
  tenantId: '00000000-0000-0000-0000-000000000002',
  hubId: '00000000-0000-0000-0000-000000000003',
  integrationId: '00000000-0000-0000-0000-000000000004',
  webhookUrl: 'https://example.com/hook',
  attempts: 6,
  createdAt: Date.parse('2026-12-05T08:00:00Z'),
  statusCode: 500,
};
const notification: Notification = exhaustionNotification(failure, Date.parse('2026-12-05T08:30:00Z'));

describe('digestMail', () => {
  it('keeps an integration name with line breaks on one line of the body and of the subject', () => {
    const name = 'Shop\r\n\r\nYour account is locked: call +1 555 0100\u2028now';
    const mail = digestMail([{ failure, notification }], name, 900_000);
    const lines = mail.text.split('\n');
    expect(lines[0]).toBe(
      `1 webhook delivery to integration "Shop Your account is locked: call +1 555 0100 now" (${failure.integrationId}) of hub ${failure.hubId} failed for good.`,
    );
    expect(lines[1]).toBe('Endpoint: https://example.com/hook');
    expect(mail.text).not.toMatch(/\r|\u2028/);
    expect(mail.subject).toBe(
      'Hookster: 1 webhook delivery failed (ENG007512) for integration Shop Your account is locked: call +1 555 0100 now',
    );
  });

  it('names the integration by id when it has no name', () => {
    const mail = digestMail([{ failure, notification }], undefined, 900_000);
    expect(mail.subject).toMatch(new RegExp(`for integration ${failure.integrationId}$`));
    expect(mail.text).toMatch(/recover \{"since": "2026-12-05T08:00:00.000Z"\}/);
  });

  it('counts a delivery that failed again after a manual resend once, by its last failure, and lists both failures', () => {
    const other: ExhaustedDelivery = { ...failure, deliveryId: '00000000-0000-0000-0000-000000000009' };
    const resent: ExhaustedDelivery = { ...failure, attempts: 1, statusCode: 410 };
    const items = [
      { failure, notification },
      { failure: other, notification: exhaustionNotification(other, Date.parse('2026-12-05T08:31:00Z')) },
      { failure: resent, notification: exhaustionNotification(resent, Date.parse('2026-12-05T08:32:00Z')) },
    ];
    const mail = digestMail(items, 'Shop', 900_000);
    expect(mail.subject).toBe('Hookster: 2 webhook deliveries failed (ENG007512) for integration Shop');
    const lines = mail.text.split('\n');
    expect(lines[0]).toMatch(/^2 webhook deliveries to integration/);
    expect(lines).toContain('  - 1 × last status 500');
    expect(lines).toContain('  - 1 × last status 410 Gone (the receiver asked to stop)');
    expect(lines.filter((line) => line.includes(failure.deliveryId))).toHaveLength(2);
  });

  it('names every endpoint the failures went to when the webhookUrl changed between them', () => {
    const moved: ExhaustedDelivery = {
      ...failure,
      deliveryId: '00000000-0000-0000-0000-000000000008',
      webhookUrl: 'https://example.com/new-hook',
    };
    const items = [
      { failure, notification },
      { failure: moved, notification: exhaustionNotification(moved, Date.parse('2026-12-05T08:31:00Z')) },
    ];
    expect(digestMail(items, 'Shop', 900_000).text.split('\n')[1]).toBe(
      'Endpoints: https://example.com/hook, https://example.com/new-hook',
    );
    expect(digestMail([items[0]!, items[0]!], 'Shop', 900_000).text.split('\n')[1]).toBe(
      'Endpoint: https://example.com/hook',
    );
  });

  it('states the window as configured, not rounded to whole minutes', () => {
    const every = (windowMs: number) =>
      /at most one such e-mail per integration every (.*)\.$/.exec(
        digestMail([{ failure, notification }], 'Shop', windowMs).text,
      )?.[1];
    expect(every(900_000)).toBe('15 minutes');
    expect(every(3_600_000)).toBe('hour');
    expect(every(90_000)).toBe('90 seconds');
    expect(every(150_000)).toBe('150 seconds');
    expect(every(5_400_000)).toBe('90 minutes');
    expect(every(2_500)).toBe('2500 ms');
    expect(every(1_000)).toBe('second');
  });

  it('oneLine leaves ordinary text alone', () => {
    expect(oneLine('Ünïcode – name ✓')).toBe('Ünïcode – name ✓');
  });
});
