// The notifications table's columns as both backends write them, in one order: the SQL's column list
// and the values that go with it, so a column added later cannot be bound in the wrong place.

import type { Notification } from '../domain/types.js';

export const NOTIFICATION_COLUMNS =
  'notification_id, tenant_id, hub_id, integration_id, delivery_id, code, caption, details, created_at, owed_mail';

/** The values of one row, in NOTIFICATION_COLUMNS order (the e-mail it owes, if any, last). */
export function notificationValues(n: Notification, owedMail: string | undefined) {
  return [
    n.notificationId,
    n.tenantId,
    n.hubId,
    n.integrationId,
    n.deliveryId ?? null,
    n.code,
    n.caption,
    n.details,
    n.createdAt,
    owedMail ?? null,
  ] as const;
}
