// The websocket gateway's follow-ups to changes made through the API: after a resume it pushes the
// deliveries held while paused (DESIGN §2.2.5); after an integration changed or was deleted it closes
// the connections that may no longer receive.

import type { RouteDeps } from './app.js';

/**
 * Awaited so the answer to the resume follows the push; a failure is logged, never turned into an
 * error answer (the resume itself is committed; what the store did not take stays held).
 */
export async function releaseHeld(
  deps: RouteDeps,
  scope: { hubId: string; integrationIds?: string[] },
): Promise<void> {
  if (!deps.gateway?.release) return;
  try {
    await deps.gateway.release(scope);
  } catch (error) {
    deps.logger.error({ err: error, ...scope }, 'releasing held websocket deliveries failed');
  }
}

/**
 * After an integration was updated or deleted, or a hub deleted: connections of an integration that
 * is gone, canceled or now receives by webhook are closed before the answer; after a client of a
 * tenant was revoked, the tenant's connections opened with its tokens. A failure is logged only
 * (the change is committed; the gateway's periodic check closes them later).
 */
export async function recheckConnections(
  deps: RouteDeps,
  scope: { integrationIds: string[] } | { hubId: string } | { tenantId: string },
): Promise<void> {
  if (!deps.gateway?.recheck) return;
  try {
    await deps.gateway.recheck(scope);
  } catch (error) {
    deps.logger.error({ err: error }, 'checking websocket connections after a change failed');
  }
}
