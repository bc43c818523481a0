// After a resume: the websocket gateway pushes the deliveries held while paused (DESIGN §2.2.5).

import type { RouteDeps } from './app.js';

/**
 * Awaited so the answer to the resume follows the push; a failure is logged, never turned into an
 * error answer (the resume itself is committed; what the store did not take stays held).
 */
export async function releaseHeld(
  deps: RouteDeps,
  scope: { integrationIds: string[] } | { hubId: string },
): Promise<void> {
  if (!deps.gateway?.release) return;
  try {
    await deps.gateway.release(scope);
  } catch (error) {
    deps.logger.error({ err: error, ...scope }, 'releasing held websocket deliveries failed');
  }
}
