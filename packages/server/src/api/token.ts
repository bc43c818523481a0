// POST /connect/token: OAuth client credentials (form-urlencoded or JSON) → a 30-day bearer token.
// Secrets and tokens are stored only as SHA-256 hashes.

import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { HooksterError } from '../domain/errors.js';
import { secret } from '../domain/ids.js';
import { parseClientCredentials } from '../domain/inputs.js';
import type { RouteDeps } from './app.js';
import { sha256Hex } from './auth.js';
import { valueOf } from './params.js';

export const TOKEN_LIFETIME_SECONDS = 2_592_000;

function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * OAuth clients may send their credentials as `Authorization: Basic base64(id:secret)` (RFC 6749
 * §2.3.1) instead of in the form; the form wins when it has them.
 */
function withBasicCredentials(body: unknown, authorization: string | undefined): unknown {
  if (!authorization || !/^basic /i.test(authorization)) return body;
  const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return body;
  const form = typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {};
  return {
    client_id: decodeURIComponentSafe(decoded.slice(0, colon)),
    client_secret: decodeURIComponentSafe(decoded.slice(colon + 1)),
    ...form,
  };
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

export function registerTokenRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.post('/connect/token', async (request, reply) => {
    const form = withBasicCredentials(request.body, request.headers.authorization);
    const { clientId, clientSecret } = valueOf(parseClientCredentials(form));
    const client = await deps.store.getClient(clientId);
    if (!client || !sameHash(sha256Hex(clientSecret), client.secretHash)) {
      throw HooksterError.of('Unauthorized', 'Unknown client or wrong client secret.');
    }
    const accessToken = secret();
    const issued = await deps.store.createToken(
      {
        tokenHash: sha256Hex(accessToken),
        tenantId: client.tenantId,
        clientId,
        scope: client.scope,
        expiresAt: deps.now() + TOKEN_LIFETIME_SECONDS * 1000,
      },
      client.secretHash,
    );
    // Revoked (or replaced) since it was read above: as if it had never existed.
    if (!issued) throw HooksterError.of('Unauthorized', 'Unknown client or wrong client secret.');
    void reply.header('cache-control', 'no-store');
    return {
      access_token: accessToken,
      expires_in: TOKEN_LIFETIME_SECONDS,
      token_type: 'Bearer',
      scope: client.scope,
    };
  });
}
