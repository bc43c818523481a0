// POST /connect/token: OAuth client credentials (form-urlencoded or JSON) → a 30-day bearer token.
// Secrets and tokens are stored only as SHA-256 hashes.

import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { HooksterError, errorItem, type ErrorItem } from '../domain/errors.js';
import { secret } from '../domain/ids.js';
import { isObject } from '../domain/validation.js';
import type { RouteDeps } from './app.js';
import { sha256Hex } from './auth.js';

export const TOKEN_LIFETIME_SECONDS = 2_592_000;

function field(body: Record<string, unknown>, name: string, errors: ErrorItem[]): string {
  const value = body[name];
  if (value === undefined || value === '') {
    errors.push(errorItem('MissingProperty', `Property '${name}' is required.`));
    return '';
  }
  if (typeof value !== 'string') {
    errors.push(errorItem('InvalidType', `Property '${name}' must be a string.`));
    return '';
  }
  return value;
}

function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

export function registerTokenRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.post('/connect/token', async (request, reply) => {
    const body = request.body;
    if (!isObject(body)) throw HooksterError.invalid([errorItem('MissingBody')]);
    const errors: ErrorItem[] = [];
    const grantType = field(body, 'grant_type', errors);
    const clientId = field(body, 'client_id', errors);
    const clientSecret = field(body, 'client_secret', errors);
    if (grantType !== '' && grantType !== 'client_credentials') {
      errors.push(errorItem('InvalidValue', "Property 'grant_type' must be 'client_credentials'."));
    }
    if (errors.length > 0) throw HooksterError.invalid(errors);
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
