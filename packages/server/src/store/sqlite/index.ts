// The SQLite backend of the Store contract: one better-sqlite3 connection in WAL mode, writes
// group-committed per event-loop turn and answered once the WAL is fsynced (group-commit.ts), so a
// resolved write is on disk exactly as with synchronous=FULL. onWork listeners fire in-process, and with
// `watchForeignCommits` also for other processes' commits (foreign-commits.ts).

import { closeSync, mkdirSync, openSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { OperationalError } from '../../domain/errors.js';
import type { Store } from '../contract.js';
import { RESTART_FRAMES, SAFETY_FACTOR, startCheckpointer } from './checkpointer.js';
import { createClaims } from './claim.js';
import type { SqliteContext } from './context.js';
import { createDeliveryLog } from './delivery-log.js';
import { newDeliveryIdPrefix } from './delivery-id.js';
import { watchForeignCommits } from './foreign-commits.js';
import { GroupCommit } from './group-commit.js';
import { createHeldPushes } from './held-pushes.js';
import { createHubs } from './hubs.js';
import { Fanouts } from './fanout.js';
import { Handoff } from './handoff.js';
import { Lanes } from './lanes.js';
import { applyMigrations } from './migrate.js';
import { createOutcomes } from './outcomes.js';
import { createActivities } from './activities.js';
import { createTenancy } from './tenancy.js';
import { translateError } from './errors.js';
import { writeLockOf } from './write-lock.js';

function createParts(ctx: SqliteContext) {
  return {
    ...createTenancy(ctx),
    ...createHubs(ctx),
    ...createActivities(ctx),
    ...createClaims(ctx),
    ...createOutcomes(ctx),
    ...createDeliveryLog(ctx),
    ...createHeldPushes(ctx),
  };
}

type Parts = ReturnType<typeof createParts>;

export interface SqliteStoreOptions {
  /** Fire onWork for commits of other processes too (a `--role worker` beside an API process). */
  watchForeignCommits?: boolean;
  /** Page cache of this connection in KiB (default 65,536 = 64 MiB). */
  cacheSizeKiB?: number;
  /**
   * Whether this store may take fresh deliveries as flights (handoff.ts). Only when no other process
   * writes this file's deliveries: false in a `--role worker` process, whose API process materialises
   * fanouts without seeing this process's watermark. Default: not when watching foreign commits.
   */
  handoff?: boolean;
  /** 0: durable writes are answered after a WAL sync; above 0: after COMMIT, synced within this (ms). */
  syncIntervalMs?: number;
  /**
   * Who checkpoints the WAL. `inline` (default): SQLite's automatic checkpoint, inside the COMMIT that
   * crosses 8,000 WAL pages. `thread`: a checkpoint thread of this store (checkpointer.ts); this
   * connection checkpoints only if the thread falls far behind or fails. `elsewhere`: another store of
   * this process runs that thread (the dispatch thread's store beside the engine's).
   */
  checkpoints?: 'inline' | 'thread' | 'elsewhere';
  /** Tests: the checkpoint thread's interval (ms) and restart mark (WAL frames; not the safety net's). */
  checkpointTuning?: { intervalMs?: number; restartFrames?: number };
  /** Told when the checkpoint thread fails (this connection then checkpoints inline again). */
  warn?: (message: string, reason: string) => void;
}

/** WAL pages between automatic checkpoints (see createSqliteStore). */
const WAL_AUTOCHECKPOINT_PAGES = 8_000;

/** Opens (creating if needed) the SQLite database at `path`; call migrate() before anything else. */
export function createSqliteStore(path: string, options: SqliteStoreOptions = {}): Store {
  if (path !== ':memory:') {
    // Owner only: the database holds every integration's private signing key (and tokens' hashes).
    // SQLite gives the -wal and -shm files the database file's permissions. Existing files are kept.
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    try {
      closeSync(openSync(path, 'wx', 0o600));
    } catch {
      // It exists (kept as it is), or cannot be created: opening it below says why.
    }
  }
  // SQLite follows a symbolic link to the database and keeps its -wal next to the real file: the WAL
  // this store syncs, watches and checks is that one (next to the link there is none).
  let real = path;
  if (path !== ':memory:' && path !== '') {
    try {
      real = realpathSync(path);
    } catch {
      // Not there: opening it below says why.
    }
  }
  let db: Database.Database;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
  } catch (error) {
    // "unable to open database file", "file is not a database": say which file.
    throw new OperationalError(`cannot use ${path} as the SQLite database: ${(error as Error).message}`);
  }
  // NORMAL + our own fdatasync of the WAL before answering a durable write (group-commit.ts).
  db.pragma('synchronous = NORMAL');
  // Inline: checkpoint every 8,000 WAL pages (32 MiB) instead of SQLite's 1,000: a page rewritten by
  // many commits (the tail of a conversation's index, an appended table page) is copied to the database
  // file once per checkpoint, so fewer checkpoints copy less and sync the file less often. Measured
  // (docs/benchmarks.md): 5–7 % more deliveries/s end to end on 2 cores; a checkpoint copies at most
  // 32 MiB, done inside the commit that crosses the mark. With a checkpoint thread, only a safety net.
  const checkpoints = path === ':memory:' || path === '' ? 'inline' : (options.checkpoints ?? 'inline');
  db.pragma(
    `wal_autocheckpoint = ${checkpoints === 'inline' ? WAL_AUTOCHECKPOINT_PAGES : SAFETY_FACTOR * RESTART_FRAMES}`,
  );
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = -${options.cacheSizeKiB ?? 65_536}`);
  db.pragma('temp_store = MEMORY');
  // No foreign keys: the store is the only writer and keeps references itself (deletes cancel
  // deliveries and keep their log); FK checks would cost a lookup per delivery row on the hot path.
  db.pragma('foreign_keys = OFF');

  const listeners = new Set<() => void>();
  let unwatch: (() => void) | undefined;
  let work = false;
  let closed = false;
  let parts: Parts | undefined;
  let context: SqliteContext | undefined;
  const inMemory = path === ':memory:' || path === '';
  // Shared with a dispatch thread of this process, if one opens the same file (write-lock.ts).
  const shared = inMemory ? undefined : writeLockOf(path);
  const lock = shared === undefined ? undefined : new Int32Array(shared);
  const writes = new GroupCommit(
    db,
    inMemory ? undefined : `${real}-wal`,
    () => {
      if (!work) return;
      work = false;
      for (const listener of listeners) {
        try {
          listener();
        } catch {
          // a listener's failure must not affect the writers that were already answered
        }
      }
    },
    lock,
    undefined,
    options.syncIntervalMs ?? 0,
  );
  const checkpointer =
    checkpoints === 'thread'
      ? startCheckpointer({
          path: real,
          lock: shared,
          intervalMs: options.checkpointTuning?.intervalMs,
          restartFrames: options.checkpointTuning?.restartFrames,
          onFailure: (reason) => {
            if (db.open) db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
            options.warn?.('the WAL checkpoint thread failed; checkpoints run inside commits again', reason);
          },
        })
      : undefined;
  // Another process cannot see the hand-off's watermark: a store that watches other processes' commits
  // (a worker beside an API process) never takes flights.
  const handoff = new Handoff(shared, writes, options.handoff ?? options.watchForeignCommits !== true);

  function ready(): Parts {
    if (parts !== undefined) return parts;
    if (closed) throw new Error('The SQLite store is closed.');
    let meta: Map<string, string>;
    try {
      meta = new Map(
        db
          .prepare<[], { key: string; value: string }>(
            "SELECT key, value FROM meta WHERE key = 'delivery_id_prefix'",
          )
          .all()
          .map((r) => [r.key, r.value]),
      );
    } catch {
      meta = new Map();
    }
    const prefix = meta.get('delivery_id_prefix');
    if (prefix === undefined) {
      throw new Error('The SQLite store is not migrated: call migrate() first.');
    }
    const signalWork = (): void => {
      work = true;
    };
    const ctx: SqliteContext = {
      db,
      writes,
      lanes: new Lanes(db),
      fanouts: new Fanouts(db, writes, signalWork, handoff),
      handoff,
      deliveryIdPrefix: prefix,
      signalWork,
    };
    context = ctx;
    parts = createParts(ctx);
    return parts;
  }

  const p = () => ready();
  // Reads run outside the group commit: a driver error there (a closed or busy database) is turned
  // into a catalogue error too; the store's own usage errors (plain Error) pass through.
  async function guarded<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw error instanceof Error && error.constructor === Error ? error : translateError(error);
    }
  }
  // The file this connection opened: if the path later names another file (or none), commits go to an
  // unlinked inode and are lost at the next start.
  const opened = path === ':memory:' ? undefined : statSync(path);
  // Its write-ahead log likewise (taken once migrate() has written, so it exists): it holds the commits
  // since the last checkpoint, which a removed log would lose at the next start.
  let openedWal: Stats | undefined;
  const statOf = (file: string): Stats | undefined => {
    try {
      return statSync(file);
    } catch {
      return undefined;
    }
  };
  const sameFile = (now: Stats | undefined, then: Stats): boolean =>
    now !== undefined && now.ino === then.ino && now.dev === then.dev;
  return {
    kind: 'sqlite',
    async check() {
      if (opened === undefined) return;
      if (!sameFile(statOf(path), opened)) {
        throw new Error(`${path} was removed or replaced while this process had it open: restart it`);
      }
      if (openedWal !== undefined && !sameFile(statOf(`${real}-wal`), openedWal)) {
        throw new Error(`${path}-wal was removed or replaced while this process had it open: restart it`);
      }
      if (writes.syncError !== undefined) {
        throw new Error(
          `a sync of ${path}-wal to disk failed (${String(writes.syncError)}): changes are refused; fix the disk and restart`,
        );
      }
    },
    async migrate() {
      writes.flushBlocking();
      applyMigrations(db, newDeliveryIdPrefix());
      ready();
      if (opened !== undefined) openedWal = statOf(`${real}-wal`);
    },
    async close() {
      if (closed) return;
      closed = true;
      unwatch?.();
      // First: waiting for its current pass must not leave room for writes after whenIdle() below.
      await checkpointer?.stop();
      // Flights still out (their results will not be recorded here) get rows as leased heads: the next
      // store takes them back when the lease ends, as any lease of a stopped process.
      if (context !== undefined && handoff.size > 0) {
        const fanouts = context.fanouts;
        await writes.enqueue(() => fanouts.materialiseTaken()).catch(() => undefined);
      }
      await writes.whenIdle();
      writes.withLock(() => handoff.disown());
      try {
        writes.close();
      } finally {
        parts = undefined;
        db.close();
      }
    },
    createTenant: (t) => guarded(() => p().createTenant(t)),
    getTenant: (id) => guarded(() => p().getTenant(id)),
    updateTenant: (t) => guarded(() => p().updateTenant(t)),
    createClient: (c) => guarded(() => p().createClient(c)),
    getClient: (id) => guarded(() => p().getClient(id)),
    listClients: (tenantId) => guarded(() => p().listClients(tenantId)),
    deleteClient: (tenantId, id) => guarded(() => p().deleteClient(tenantId, id)),
    createToken: (t, secretHash) => guarded(() => p().createToken(t, secretHash)),
    getToken: (h) => guarded(() => p().getToken(h)),
    createHub: (h) => guarded(() => p().createHub(h)),
    getHub: (id) => guarded(() => p().getHub(id)),
    listHubs: (tenantId, page) => guarded(() => p().listHubs(tenantId, page)),
    updateHub: (h, expected) => guarded(() => p().updateHub(h, expected)),
    deleteHub: (id) => guarded(() => p().deleteHub(id)),
    createIntegration: (i) => guarded(() => p().createIntegration(i)),
    getIntegration: (id) => guarded(() => p().getIntegration(id)),
    listIntegrations: (filter, page) => guarded(() => p().listIntegrations(filter, page)),
    updateIntegration: (i, expected) => guarded(() => p().updateIntegration(i, expected)),
    deleteIntegration: (id) => guarded(() => p().deleteIntegration(id)),
    establishConversation: (request, create) => guarded(() => p().establishConversation(request, create)),
    getConversation: (id) => guarded(() => p().getConversation(id)),
    submitActivity: (id, plan) => guarded(() => p().submitActivity(id, plan)),
    listActivities: (id, query) => guarded(() => p().listActivities(id, query)),
    claimDeliveries: (request) => guarded(() => p().claimDeliveries(request)),
    recordAttempts: (records) => guarded(() => p().recordAttempts(records)),
    nextDueAt: () => guarded(() => p().nextDueAt()),
    onWork(listener) {
      listeners.add(listener);
      if (options.watchForeignCommits === true && !inMemory && unwatch === undefined) {
        unwatch = watchForeignCommits(db, real, () => {
          for (const each of listeners) each();
        });
      }
      return () => listeners.delete(listener);
    },
    listDeliveries: (id, status, page) => guarded(() => p().listDeliveries(id, status, page)),
    getDelivery: (id) => guarded(() => p().getDelivery(id)),
    retryDelivery: (id, now) => guarded(() => p().retryDelivery(id, now)),
    recoverDeliveries: (id, since, now) => guarded(() => p().recoverDeliveries(id, since, now)),
    recordWebsocketOutcomes: (outcomes) => guarded(() => p().recordWebsocketOutcomes(outcomes)),
    failStaleWebsocketDeliveries: (before, error, limit) =>
      guarded(() => p().failStaleWebsocketDeliveries(before, error, limit)),
    takeHeldWebsocketDeliveries: (scope, limit) =>
      guarded(() => p().takeHeldWebsocketDeliveries(scope, limit)),
    createNotification: (n, owedMail) => guarded(() => p().createNotification(n, owedMail)),
    listOwedMail: (id, limit) => guarded(() => p().listOwedMail(id, limit)),
    clearOwedMail: (ids) => guarded(() => p().clearOwedMail(ids)),
    integrationsOwedMail: () => guarded(() => p().integrationsOwedMail()),
    reserveEmailWindow: (id, now, windowMs) => guarded(() => p().reserveEmailWindow(id, now, windowMs)),
    releaseEmailWindow: (id, reservedAt, windowMs) =>
      guarded(() => p().releaseEmailWindow(id, reservedAt, windowMs)),
    pruneEmailWindows: (before) => guarded(() => p().pruneEmailWindows(before)),
    listNotifications: (tenantId, page) => guarded(() => p().listNotifications(tenantId, page)),
  };
}
