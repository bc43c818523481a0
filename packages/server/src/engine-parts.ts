// The seams between the engine's parts, so each can be built and tested alone and wired in engine.ts.

import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { HooksterConfig } from './config/types.js';
import type { Store, SubmitResult } from './store/contract.js';

/** Resolves a bearer token to who is calling. */
export type Principal =
  | { kind: 'admin' }
  /**
   * `expiresAt`: when the token expires (epoch ms); an open hub connection is closed then. `clientId`:
   * the client it was issued to; `tokenHash`: its SHA-256 (hex), to check it is still valid later.
   */
  | {
      kind: 'tenant';
      tenantId: string;
      scope: string;
      expiresAt: number;
      clientId: string;
      tokenHash: string;
    };
export type Authenticate = ((bearerToken: string | undefined) => Promise<Principal | undefined>) & {
  /** Drops what is cached for the tokens of a revoked client (this process answers 401 at once). */
  forgetClient?(clientId: string): void;
};

export interface PartDeps {
  config: HooksterConfig;
  store: Store;
  logger: Logger;
}

/** The webhook dispatcher (role worker/all). */
export interface Dispatcher {
  start(): void;
  /**
   * Resolves once the dispatcher takes work (a dispatch thread has started); rejects when it cannot
   * start. Absent: ready as soon as start() returns.
   */
  ready?(): Promise<void>;
  /** Why the dispatcher takes no work now (its thread ended and starts again), or undefined. */
  unavailable?(): string | undefined;
  /** Stops claiming, waits for in-flight attempts (bounded), records their results. */
  stop(): Promise<void>;
  /** Signals that work may have appeared (e.g. another connection or thread committed some). */
  wake?(): void;
}

/** The websocket gateway (role api/all): attaches to the HTTP server and pushes activities. */
export interface Gateway {
  /** Handles upgrade requests on /engine-chat-hub of this server. */
  attach(server: Server): void;
  /** Pushes a committed submission's websocket deliveries (in-process; cross-process via the store). */
  publish(result: SubmitResult): void;
  /**
   * After a resume (integration 3002→3000, hub 2002→2000): pushes the held websocket deliveries of the
   * resumed integrations of the hub (or of all the hub's) in order and records their outcomes; resolves
   * with how many.
   */
  release?(scope: { hubId: string; integrationIds?: string[] }): Promise<number>;
  /**
   * After an integration was updated or deleted (or its hub deleted): closes this process's connections
   * whose integration may no longer hold one (these integrations', one hub's, or all). Other
   * processes find out within a keep-alive period.
   */
  recheck?(scope?: { integrationIds: string[] } | { hubId: string } | { tenantId: string }): Promise<void>;
  close(): Promise<void>;
}
