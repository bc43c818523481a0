// Bearer authentication: the admin token (constant-time compare) or a tenant token issued by
// POST /connect/token (stored as its SHA-256 hash). Also the tenant-visibility rule every route uses.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HooksterError } from '../domain/errors.js';
import type { Guid } from '../domain/types.js';
import type { Authenticate, Principal } from '../engine-parts.js';
import type { Store } from '../store/contract.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

export const ADMIN: Principal = { kind: 'admin' };

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `Authorization: Bearer <token>` → the token. */
export function bearerOf(header: string | undefined): string | undefined {
  if (header === undefined || header.length < 8) return undefined;
  if (header.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  const token = header.slice(7).trim();
  return token === '' ? undefined : token;
}

interface CachedToken {
  principal: Principal;
  expiresAt: number;
}

/** Tokens cannot be revoked, so a verified token is cached until it expires (bounded size). */
const TOKEN_CACHE_LIMIT = 10_000;

export function createAuthenticate(
  store: Store,
  adminToken: string,
  now: () => number = Date.now,
): Authenticate {
  const adminDigest = createHash('sha256').update(adminToken).digest();
  // Verified tenant tokens by their text, so a repeated token is neither hashed nor looked up again
  // (only a caller who already holds a valid token can tell a hit from a miss). The admin token is
  // never cached: it is compared digest to digest, in constant time, each time.
  const cache = new Map<string, CachedToken>();
  return async (token) => {
    if (token === undefined) return undefined;
    const cached = cache.get(token);
    if (cached !== undefined) {
      if (cached.expiresAt > now()) return cached.principal;
      cache.delete(token);
      return undefined;
    }
    const digest = createHash('sha256').update(token).digest();
    // Comparing digests keeps the comparison constant-time whatever the token's length.
    if (timingSafeEqual(digest, adminDigest)) return ADMIN;
    const record = await store.getToken(digest.toString('hex'));
    if (!record || record.expiresAt <= now()) return undefined;
    const principal: Principal = {
      kind: 'tenant',
      tenantId: record.tenantId,
      scope: record.scope,
      expiresAt: record.expiresAt,
    };
    if (cache.size >= TOKEN_CACHE_LIMIT) cache.clear();
    cache.set(token, { principal, expiresAt: record.expiresAt });
    return principal;
  };
}

/** Fastify onRequest hook: 401 unless the bearer token resolves to a principal. */
export function requireAuth(authenticate: Authenticate) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const principal = await authenticate(bearerOf(request.headers.authorization));
    if (!principal) throw HooksterError.of('Unauthorized');
    request.principal = principal;
  };
}

/** True when the principal may see resources of `tenantId` (admin sees all). */
export function canSee(principal: Principal, tenantId: Guid): boolean {
  return principal.kind === 'admin' || principal.tenantId === tenantId;
}

/** The tenant a principal is confined to; undefined for the admin (every tenant). */
export function tenantScope(principal: Principal): Guid | undefined {
  return principal.kind === 'admin' ? undefined : principal.tenantId;
}

/** Admin-only operations: a tenant token gets 403 (no foreign id is involved or leaked). */
export function requireAdmin(principal: Principal): void {
  if (principal.kind !== 'admin') throw HooksterError.of('Forbidden', 'Only the admin token may do this.');
}
