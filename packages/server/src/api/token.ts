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

export function registerTokenRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.post('/connect/token', async (request, reply) => {
    const { clientId, clientSecret } = valueOf(parseClientCredentials(request.body));
    const client = await deps.store.getClient(clientId);
    if (!client || !sameHash(sha256Hex(clientSecret), client.secretHash)) {
      throw HooksterError.of('Unauthorized', 'Unknown client or wrong client secret.');
    }
    const accessToken = secret();
    await deps.store.createToken({
      tokenHash: sha256Hex(accessToken),
      tenantId: client.tenantId,
      clientId,
      scope: client.scope,
      expiresAt: deps.now() + TOKEN_LIFETIME_SECONDS * 1000,
    });
    void reply.header('cache-control', 'no-store');
    return {
      access_token: accessToken,
      expires_in: TOKEN_LIFETIME_SECONDS,
      token_type: 'Bearer',
      scope: client.scope,
    };
  });
}
