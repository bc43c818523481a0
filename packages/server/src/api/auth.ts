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
  principal: Principal & { kind: 'tenant' };
  expiresAt: number;
  /** When the store last confirmed the token (a revocation by another process is seen after this). */
  checkedAt: number;
}

/** Verified tokens cached by their text (bounded size). */
const TOKEN_CACHE_LIMIT = 10_000;
/**
 * How long a cached token is trusted before the store is asked again: a client revoked through another
 * engine process (or straight in the database) is refused here at most this long afterwards. A
 * revocation through this process's API drops its tokens from the cache at once (forgetClient).
 */
export const TOKEN_RECHECK_MS = 5_000;

export function createAuthenticate(
  store: Store,
  adminToken: string,
  now: () => number = Date.now,
): Authenticate {
  const adminDigest = createHash('sha256').update(adminToken).digest();
  // Verified tenant tokens by their text, so a repeated token is neither hashed nor looked up again
  // within TOKEN_RECHECK_MS (only a caller who already holds a valid token can tell a hit from a
  // miss). The admin token is never cached: it is compared digest to digest, in constant time, each time.
  const cache = new Map<string, CachedToken>();
  // Counts revocations: a lookup that overlapped one does not cache what it read (the read may predate
  // the revocation's commit, and the cache would then serve the token for up to TOKEN_RECHECK_MS).
  let revocations = 0;
  const authenticate: Authenticate = async (token) => {
    if (token === undefined) return undefined;
    const at = now();
    const cached = cache.get(token);
    if (cached !== undefined) {
      if (cached.expiresAt <= at) {
        cache.delete(token);
        return undefined;
      }
      if (at - cached.checkedAt < TOKEN_RECHECK_MS) return cached.principal;
      const revocationsBefore = revocations;
      const record = await store.getToken(cached.principal.tokenHash);
      if (record === undefined) {
        cache.delete(token);
        return undefined;
      }
      if (revocations === revocationsBefore) cached.checkedAt = at;
      return cached.principal;
    }
    const digest = createHash('sha256').update(token).digest();
    // Comparing digests keeps the comparison constant-time whatever the token's length.
    if (timingSafeEqual(digest, adminDigest)) return ADMIN;
    const tokenHash = digest.toString('hex');
    const revocationsBefore = revocations;
    const record = await store.getToken(tokenHash);
    if (!record || record.expiresAt <= at) return undefined;
    const principal: CachedToken['principal'] = {
      kind: 'tenant',
      tenantId: record.tenantId,
      scope: record.scope,
      expiresAt: record.expiresAt,
      clientId: record.clientId,
      tokenHash,
    };
    if (revocations !== revocationsBefore) return principal;
    if (cache.size >= TOKEN_CACHE_LIMIT) cache.clear();
    cache.set(token, { principal, expiresAt: record.expiresAt, checkedAt: at });
    return principal;
  };
  authenticate.forgetClient = (clientId) => {
    revocations++;
    for (const [token, entry] of cache) if (entry.principal.clientId === clientId) cache.delete(token);
  };
  return authenticate;
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
