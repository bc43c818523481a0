// Who may open a hub connection: the token (header or `access_token`), the integration (`iId`) and
// the optional conversation (`cId`). Used at negotiate and again at the websocket upgrade.

import type { IncomingHttpHeaders } from 'node:http';
import { errorItem, type ErrorItem } from '../domain/errors.js';
import { isGuid, normalizeGuid } from '../domain/ids.js';
import { IntegrationStatus, type Guid, type Integration } from '../domain/types.js';
import type { Authenticate } from '../engine-parts.js';
import type { Store } from '../store/contract.js';

export interface HubTarget {
  integrationId: Guid;
  tenantId: Guid;
  /** The integration's hub (a hub delete closes its integrations' connections). */
  hubId: Guid;
  /** Set when the connection is narrowed to one conversation (`cId`). */
  conversationId?: Guid;
  /** When the connection's token expires (epoch ms; none for the admin token): it is closed then. */
  expiresAt?: number;
  /** The SHA-256 (hex) of a tenant token: the connection is closed once the token is revoked. */
  tokenHash?: string;
}

export type AccessResult =
  { ok: true; target: HubTarget } | { ok: false; status: number; errors: ErrorItem[] };

/** The bearer token: `Authorization: Bearer …` first, else the `access_token` query parameter. */
export function bearerToken(headers: IncomingHttpHeaders, query: URLSearchParams): string | undefined {
  const header = headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (match?.[1]) return match[1];
  }
  const fromQuery = query.get('access_token');
  return fromQuery ? fromQuery : undefined;
}

/**
 * Why this integration may not hold a hub connection (undefined: it may). Checked at negotiate, at the
 * upgrade, and again on open connections after the integration changed (see the gateway's recheck).
 */
export function integrationRefusal(integration: Integration | undefined): string | undefined {
  if (integration === undefined) return 'This integration no longer exists.';
  if (integration.channelId !== 'Direct') {
    return 'Only Direct/BYOI integrations receive activities over the websocket.';
  }
  if (integration.configuration.webhookUrl) {
    return 'This integration has a webhookUrl, so it receives activities by webhook; remove webhookUrl to receive them over the websocket.';
  }
  if (integration.statusId === IntegrationStatus.Canceled) {
    return 'This integration is canceled and receives nothing.';
  }
  return undefined;
}

function refuse(status: number, ...errors: ErrorItem[]): AccessResult {
  return { ok: false, status, errors };
}

/**
 * Resolves the connection's target or the reason it is refused. A foreign tenant's integration or
 * conversation is answered exactly like an unknown one (404), so ids do not leak.
 */
export async function resolveHubTarget(
  store: Store,
  authenticate: Authenticate,
  headers: IncomingHttpHeaders,
  query: URLSearchParams,
): Promise<AccessResult> {
  const principal = await authenticate(bearerToken(headers, query));
  if (!principal) return refuse(401, errorItem('Unauthorized'));

  const iId = query.get('iId');
  if (!iId)
    return refuse(400, errorItem('MissingProperty', 'Query parameter iId (integration id) is required.'));
  if (!isGuid(iId))
    return refuse(400, errorItem('InvalidGuid', `Query parameter iId is not a GUID: '${iId}'.`));
  const cId = query.get('cId');
  if (cId !== null && cId !== '' && !isGuid(cId)) {
    return refuse(400, errorItem('InvalidGuid', `Query parameter cId is not a GUID: '${cId}'.`));
  }

  const integration = await store.getIntegration(normalizeGuid(iId));
  if (!integration || (principal.kind === 'tenant' && principal.tenantId !== integration.tenantId)) {
    return refuse(404, errorItem('IntegrationNotFound'));
  }
  const refusal = integrationRefusal(integration);
  if (refusal !== undefined) return refuse(400, errorItem('InvalidValue', refusal));

  const target: HubTarget = {
    integrationId: integration.integrationId,
    tenantId: integration.tenantId,
    hubId: integration.hubId,
  };
  if (principal.kind === 'tenant') {
    target.expiresAt = principal.expiresAt;
    target.tokenHash = principal.tokenHash;
  }
  if (cId) {
    const conversation = await store.getConversation(normalizeGuid(cId));
    if (!conversation || conversation.hubId !== integration.hubId) {
      return refuse(404, errorItem('ConversationNotFound'));
    }
    target.conversationId = conversation.conversationId;
  }
  return { ok: true, target };
}
