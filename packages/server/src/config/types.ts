// The resolved configuration every module receives (libraries take options; only config/ reads env).

export type Role = 'all' | 'api' | 'worker';

export interface HooksterConfig {
  /** `sqlite:<path>` or `postgres://…`. */
  databaseUrl: string;
  /**
   * 0 (`commit`): an accepted write is answered once synced to disk. Above 0: once written to the OS,
   * and synced within this many ms (SQLite; PostgreSQL runs `synchronous_commit = off`).
   */
  syncIntervalMs: number;
  /** PostgreSQL: longest a statement on the pooled connections may run, in ms (0 = no limit). */
  pgStatementTimeoutMs: number;
  host: string;
  port: number;
  /** Admin bearer token; resolved (generated and persisted if unset) before the engine starts. */
  adminToken: string;
  /** Folder for the SQLite file and the generated admin token. */
  dataDir: string;
  role: Role;
  /** Waits before attempts 2..N in ms (default 2m,4m,6m,8m,10m → 6 attempts). */
  retryScheduleMs: number[];
  /** Per-attempt timeout in ms (connect + headers + body). */
  deliveryTimeoutMs: number;
  /** CIDRs and host names the egress guard lets through. */
  egressAllow: string[];
  smtpUrl?: string;
  smtpFrom: string;
  notifyWindowMs: number;
  sourceSystem: string;
  /** Largest accepted request body in bytes (413 above). */
  bodyLimitBytes: number;
  /** Longest time a client may take to send a whole request (408 above). */
  requestTimeoutMs: number;
  /** Deliveries in flight per process, overall and per integration. */
  concurrency: number;
  perIntegrationConcurrency: number;
  /** Run the webhook dispatcher on a worker thread with its own store connection (default false). */
  dispatchThread?: boolean | 'auto';
  /** Linux: how much lower than the main thread's the dispatch thread's CPU priority is (nice steps). */
  dispatchThreadNice?: number;
  batchMaxActivities: number;
  batchMaxBytes: number;
  logLevel: string;
  /** Websocket gateway: keep-alive ping period (ms). */
  wsPingIntervalMs: number;
  /** Websocket gateway: a connection silent this long (ms) is closed as timed out. */
  wsClientTimeoutMs: number;
  /** Websocket gateway: unsent bytes one connection may queue before it is dropped as a slow consumer. */
  wsSendBufferBytes: number;
  /** Websocket gateway (several processes): how long (ms) "no connection" waits for another process's "delivered". */
  wsOutcomeWaitMs: number;
}
