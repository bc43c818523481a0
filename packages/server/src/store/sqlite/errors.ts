// Turns better-sqlite3 errors into catalogue errors, so no driver error ever leaves the backend as-is.

import { HooksterError } from '../../domain/errors.js';

interface DriverError {
  code?: unknown;
  message?: unknown;
}

/** Maps a thrown value to a HooksterError; HooksterErrors pass through unchanged. */
export function translateError(error: unknown): Error {
  if (error instanceof HooksterError) return error;
  const driver = error as DriverError;
  const code = typeof driver?.code === 'string' ? driver.code : '';
  const message = typeof driver?.message === 'string' ? driver.message : '';
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    if (message.includes('hubs.tenant_id, hubs.name')) return HooksterError.of('HubNameExists');
    if (message.includes('integrations.hub_id, integrations.name'))
      return HooksterError.of('IntegrationNameExists');
    return withCause(HooksterError.of('AlreadyExists'), error);
  }
  // Another process held the file's write lock past busy_timeout: temporary, the client may try again.
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return withCause(HooksterError.of('Busy'), error);
  }
  return withCause(HooksterError.of('SystemError'), error);
}

function withCause(target: HooksterError, cause: unknown): HooksterError {
  Object.defineProperty(target, 'cause', { value: cause, enumerable: false });
  return target;
}
