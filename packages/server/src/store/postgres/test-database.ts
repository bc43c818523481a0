// Test support: a fresh random schema on the machine's PostgreSQL per store, and whether it is reachable.

import { randomBytes } from 'node:crypto';
import { createServer, connect as connectTcp, type Server, type Socket } from 'node:net';
import pg from 'pg';

/** Where tests find PostgreSQL (trust auth on loopback); HOOKSTER_TEST_POSTGRES_URL overrides it. */
export const TEST_POSTGRES_URL =
  process.env['HOOKSTER_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A URL naming a schema nobody else uses; migrate() creates it. */
export function freshSchemaUrl(prefix = 't'): { url: string; schema: string } {
  const schema = `hk_${prefix}_${randomBytes(6).toString('hex')}`;
  const url = new URL(TEST_POSTGRES_URL);
  url.searchParams.set('schema', schema);
  return { url: url.toString(), schema };
}

/**
 * A plain session of the test database inside `schema` (another process's, holding locks or watching),
 * connected; `opened` collects it for the caller's cleanup (`end()` each).
 */
export async function sessionIn(schema: string, opened: pg.Client[]): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, options: `-c search_path=${schema}` });
  client.on('error', () => undefined);
  opened.push(client);
  await client.connect();
  return client;
}

/** The backend pid of a session. */
export async function pidOf(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return rows[0]!.pid;
}

/**
 * Polls (bounded) until a backend waits for a lock `pid` holds and returns that backend's pid, or
 * returns undefined as soon as `settled()` is true (the awaited work finished without waiting).
 */
export async function blockedBy(
  observer: pg.Client,
  pid: number,
  settled = () => false,
): Promise<number | undefined> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (settled()) return undefined;
    const { rows } = await observer.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))',
      [pid],
    );
    if (rows[0] !== undefined) return rows[0].pid;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`nothing waited for backend ${pid} in time`);
}

/** Drops test schemas (best effort: a leftover schema never affects another test). */
export async function dropSchemas(schemas: string[]): Promise<void> {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * Resolves true when PostgreSQL answers. Under CI=true an unreachable server is an error (the
 * PostgreSQL run is mandatory there); elsewhere the caller skips with a visible message.
 */
export async function postgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    if (process.env['CI'] === 'true') {
      throw new Error(`PostgreSQL is required under CI=true but ${TEST_POSTGRES_URL} is unreachable`, {
        cause: error,
      });
    }
    console.warn(`PostgreSQL tests SKIPPED: ${TEST_POSTGRES_URL} is unreachable (${String(error)})`);
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `url` (a database URL of the test PostgreSQL, e.g. with its schema) going through the proxy's port. */
export function throughProxy(url: string, port: number): string {
  const via = new URL(url);
  via.host = `127.0.0.1:${port}`;
  return via.toString();
}

/**
 * A TCP proxy to the test PostgreSQL. While `silent`, it accepts new connections and never answers, as a
 * load balancer in front of a database that is down does; connections forwarded before are unaffected.
 */
export async function startProxy(): Promise<{
  port: number;
  silent: boolean;
  /** Resolves once a connection arrived while silent. */
  swallowed: Promise<void>;
  /** Stops carrying bytes on the connections forwarded so far, without closing them (a dead network). */
  freeze(): void;
  close(): Promise<void>;
}> {
  const target = new URL(TEST_POSTGRES_URL);
  const sockets = new Set<Socket>();
  const pairs: [Socket, Socket][] = [];
  let markSwallowed: () => void = () => undefined;
  const state = {
    port: 0,
    silent: false,
    swallowed: new Promise<void>((resolve) => (markSwallowed = resolve)),
    freeze: () => {
      for (const [client, upstream] of pairs.splice(0)) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (state.silent) {
      markSwallowed();
      return;
    }
    const upstream = connectTcp(Number(target.port || 5432), target.hostname);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
    socket.pipe(upstream).pipe(socket);
    pairs.push([socket, upstream]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as { port: number }).port;
  return state;
}
