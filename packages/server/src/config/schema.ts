// The one configuration schema: every setting with its env variable, CLI flag, default, description and
// parser. The TypeBox document below (ConfigFileSchema) is derived from it and checks --config files.

import { Type, type TSchema } from '@sinclair/typebox';
import { parsePostgresUrl } from '../store/postgres/url.js';
import { parseCidr } from '../delivery/ip-ranges.js';
import { MAX_RETRY_WAIT_MS, MAX_TIMER_MS, parseDuration, parseDurationList } from '../domain/duration.js';
import type { HooksterConfig, Role } from './types.js';

/** The keys of HooksterConfig; dataDir's default depends on databaseUrl. */
export type SettingKey = keyof HooksterConfig;

export interface Setting {
  key: SettingKey;
  /** Environment variable, always HOOKSTER_*. */
  env: string;
  /** Long CLI flag without dashes; absent for secrets (never on a command line). */
  flag?: string;
  /** Default as written in env/flags; undefined = unset (optional) or derived (see defaultText). */
  default?: string;
  /** How the default reads in --help and docs when it is not a literal value. */
  defaultText?: string;
  description: string;
  /** Parses the textual value; returns the typed value or throws a message saying what is expected. */
  parse: (text: string) => unknown;
  /** What an empty JSON array in a config file stands for (default: the empty text). */
  emptyList?: string;
  /** Never shown back, not even when it is refused. */
  secret?: true;
  /** A URL that may carry credentials: a refused value is shown without what comes before its last '@'. */
  credentials?: true;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const ROLES: Role[] = ['all', 'api', 'worker'];
const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1000, kib: 1024, mb: 1_000_000, mib: 1_048_576 };

function parseInteger(min: number, max: number) {
  return (text: string): number => {
    if (!/^\s*\d+\s*$/.test(text) || Number(text) < min || Number(text) > max) {
      throw new Error(`expected an integer from ${min} to ${max}`);
    }
    return Number(text);
  };
}

function parseBytes(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const factor = match ? BYTE_UNITS[(match[2] || 'b').toLowerCase()] : undefined;
  const bytes = match && factor !== undefined ? Math.floor(Number(match[1]) * factor) : NaN;
  // Too many digits read as Infinity (or past 2^53, inexact): refused here, not by Fastify with a stack.
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new Error('expected a positive size such as 1048576, 512KiB or 1MiB');
  }
  return bytes;
}

function parsePositiveDuration(text: string): number {
  const value = parseDuration(text);
  if (value === undefined || value <= 0 || value > MAX_TIMER_MS)
    throw new Error('expected a positive duration of at most 596h, such as 500ms, 10s, 2m or 1h');
  return value;
}

/** Longest sync interval: past a minute, a power failure would take too much with it. */
const MAX_SYNC_INTERVAL_MS = 60_000;

function parseSync(text: string): number {
  if (text.trim().toLowerCase() === 'commit') return 0;
  const value = parseDuration(text);
  if (value === undefined || value <= 0 || value > MAX_SYNC_INTERVAL_MS)
    throw new Error('expected "commit" or a duration from 1ms to 60s, such as 1s');
  return value;
}

/**
 * Shortest statement timeout: a bare number is milliseconds (as in PostgreSQL), and `30` meant as
 * seconds would cut off every statement under the least load.
 */
const MIN_STATEMENT_TIMEOUT_MS = 100;

function parseStatementTimeout(text: string): number {
  const value = parseDuration(text);
  // `0.4` rounds to 0: a positive value read as "no limit" would be the opposite of what was asked.
  const off = value === 0 && /^\s*0+(\.0*)?\s*(ms|s|m|h)?\s*$/.test(text);
  if (off) return 0;
  if (value === undefined || value < MIN_STATEMENT_TIMEOUT_MS || value > MAX_TIMER_MS)
    throw new Error('expected 0 (no limit) or a duration from 100ms to 596h, such as 30s or 2m');
  return value;
}

function parseSchedule(text: string): number[] {
  if (text.trim().toLowerCase() === 'none') return [];
  const values = parseDurationList(text);
  if (!values || values.some((ms) => ms > MAX_RETRY_WAIT_MS))
    throw new Error('expected comma-separated durations of at most 168h each, such as 2m,4m,6m (or "none")');
  return values;
}

function parseList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

const HOST_LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/**
 * A host name: letters, digits, hyphens and underscores in labels (underscores are common in Docker
 * Compose service names, and URLs accept them), the last label not a number, decimal or `0x` hex (a
 * mistyped address: the URL parser reads such a host as an IPv4 address, so the name would match nothing).
 */
function isHostName(text: string): boolean {
  const host = text.endsWith('.') ? text.slice(0, -1) : text;
  const labels = host.split('.');
  return (
    host.length > 0 &&
    host.length <= 253 &&
    labels.every((label) => HOST_LABEL.test(label)) &&
    !/^(\d+|0x[0-9a-f]*)$/.test(labels[labels.length - 1] ?? '')
  );
}

/**
 * The egress allow-list: CIDRs, IP addresses, host names and `*.` suffixes. An entry that is none of
 * them (a URL, a port, a CIDR with a bad prefix, a mistyped address) would allow nothing, silently.
 */
function parseEgressAllow(text: string): string[] {
  const entries = parseList(text);
  const bad = entries.filter((entry) => {
    const value = entry.toLowerCase();
    if (parseCidr(value)) return false;
    return !isHostName(value.startsWith('*.') ? value.slice(2) : value);
  });
  if (bad.length > 0) {
    throw new Error(
      `${bad.map((entry) => `'${entry}'`).join(', ')}: expected CIDRs (10.0.0.0/8), IP addresses or host names ` +
        '(hooks.internal, *.corp.example), without scheme, port or path',
    );
  }
  return entries;
}

function parseDatabaseUrl(text: string): string {
  const value = text.trim();
  if (/^sqlite:.+/.test(value)) return value;
  if (/^postgres(ql)?:\/\/.+/.test(value)) {
    // Its `schema` and `pool` parameters are checked now, not when the store first connects.
    parsePostgresUrl(value);
    return value;
  }
  throw new Error('expected sqlite:<path> or postgres://user@host:port/database');
}

function parseSmtpUrl(text: string): string {
  try {
    const url = new URL(text.trim());
    if (url.protocol === 'smtp:' || url.protocol === 'smtps:') return text.trim();
  } catch {
    // reported below
  }
  throw new Error('expected smtp://host:port or smtps://user:pass@host:port');
}

export function parseToken(text: string): string {
  const value = text.trim();
  if (value.length < 16 || /\s/.test(value))
    throw new Error('expected at least 16 characters without spaces');
  return value;
}

function parseText(text: string): string {
  if (text.trim() === '') throw new Error('expected a non-empty value');
  return text.trim();
}

function oneOf(values: string[]) {
  return (text: string): string => {
    const value = text.trim().toLowerCase();
    if (!values.includes(value)) throw new Error(`expected one of ${values.join(', ')}`);
    return value;
  };
}

export const settings: Setting[] = [
  {
    key: 'databaseUrl',
    env: 'HOOKSTER_DATABASE_URL',
    flag: 'database-url',
    default: 'sqlite:./data/hookster.db',
    description:
      'Database: `sqlite:<path>` (created if missing) or `postgres://user:pass@host:port/db`. With a ' +
      'password, use the variable rather than the flag: a flag shows in the process list.',
    parse: parseDatabaseUrl,
    credentials: true,
  },
  {
    key: 'syncIntervalMs',
    env: 'HOOKSTER_SYNC',
    flag: 'sync',
    default: 'commit',
    description:
      'When an accepted submission or change is answered. `commit`: once synced to disk (fdatasync); ' +
      'nothing answered is lost, even to a power failure. A duration such as `1s`: once written to the ' +
      'OS, with the disk synced within that time (within 100 ms when the duration is longer); a crash of Hookster loses nothing answered, a power ' +
      "failure or OS crash up to that much (like Redis's `appendfsync everysec`). On PostgreSQL any " +
      'duration means `synchronous_commit = off`: a crash of the database server, too, can then lose ' +
      'the last ~0.6 s.',
    parse: parseSync,
  },
  {
    key: 'pgStatementTimeoutMs',
    env: 'HOOKSTER_PG_STATEMENT_TIMEOUT',
    flag: 'pg-statement-timeout',
    default: '60s',
    description:
      'PostgreSQL: the longest a statement on the pooled connections may run, waiting for a lock ' +
      "included (the sessions' `statement_timeout`; `idle_in_transaction_session_timeout` gets the same " +
      'value, but at least 60 s). A statement held up longer, e.g. by a lock a stuck transaction of another process or a ' +
      "migration's DDL holds, is cancelled: the request answers 503 (code `103`) instead of hanging, the " +
      'dispatcher claims again later. `0` = no limit; otherwise at least `100ms` (a bare number is ' +
      'milliseconds). Why 60 s: normal statements take milliseconds, but deleting an integration or a ' +
      'hub is one statement over possibly many rows (measured on 2 cores: 16 s to delete an integration ' +
      'with 1,000,000 pending deliveries; `recover` runs in chunks of 1,000); 60 s is also ' +
      "the usual proxies' read timeout (nginx), past which nobody awaits the answer. Raise it for larger " +
      'deletes. Migrations run without it. SQLite ignores it.',
    parse: parseStatementTimeout,
  },
  {
    key: 'host',
    env: 'HOOKSTER_HOST',
    flag: 'host',
    default: '0.0.0.0',
    description: 'Address the HTTP API and websocket gateway listen on.',
    parse: parseText,
  },
  {
    key: 'port',
    env: 'HOOKSTER_PORT',
    flag: 'port',
    default: '8080',
    description: 'Port the HTTP API and websocket gateway listen on (0 = any free port).',
    parse: parseInteger(0, 65535),
  },
  {
    key: 'adminToken',
    env: 'HOOKSTER_ADMIN_TOKEN',
    defaultText: 'generated at first start',
    description:
      'Admin bearer token (at least 16 characters). When unset, one is generated at first start, kept in ' +
      '`<data folder>/admin-token` and printed once to stderr; later starts reuse it.',
    secret: true,
    parse: parseToken,
  },
  {
    key: 'dataDir',
    env: 'HOOKSTER_DATA_DIR',
    flag: 'data-dir',
    defaultText: 'folder of the SQLite file, else `./data`',
    description: 'Folder for local state such as the generated admin token.',
    parse: parseText,
  },
  {
    key: 'role',
    env: 'HOOKSTER_ROLE',
    flag: 'role',
    default: 'all',
    description:
      'What this process runs: `api` (HTTP API + websocket gateway), `worker` (webhook dispatcher) or `all`. `api` and `worker` need a database other processes open too (a SQLite file or PostgreSQL, not `sqlite::memory:`).',
    parse: oneOf(ROLES),
  },
  {
    key: 'retryScheduleMs',
    env: 'HOOKSTER_RETRY_SCHEDULE',
    flag: 'retry-schedule',
    default: '2m,4m,6m,8m,10m',
    description:
      'Waits before attempts 2..N, comma-separated, units `ms` `s` `m` `h`, each at most 168h (`none`, or `[]` in a config file: a single attempt). ' +
      'The default makes 6 attempts at 0, 2, 6, 12, 20 and 30 minutes.',
    parse: parseSchedule,
    emptyList: 'none',
  },
  {
    key: 'deliveryTimeoutMs',
    env: 'HOOKSTER_DELIVERY_TIMEOUT',
    flag: 'delivery-timeout',
    default: '10s',
    description: 'Per-attempt timeout of a webhook request (connect, headers and body).',
    parse: parsePositiveDuration,
  },
  {
    key: 'egressAllow',
    env: 'HOOKSTER_EGRESS_ALLOW',
    flag: 'egress-allow',
    default: '',
    defaultText: 'empty',
    description:
      'Comma-separated CIDRs and host names the egress guard lets through (by default loopback, private, ' +
      'link-local and other non-public addresses are refused), e.g. `127.0.0.1/32,hooks.internal`. ' +
      'An entry that is neither (a URL, a port, a bad prefix) stops the engine at start.',
    parse: parseEgressAllow,
  },
  {
    key: 'smtpUrl',
    env: 'HOOKSTER_SMTP_URL',
    flag: 'smtp-url',
    defaultText: 'unset (no e-mail)',
    description:
      'SMTP server for notification e-mails, `smtp://host:port` or `smtps://user:pass@host:port`. With ' +
      'credentials, `smtp://` requires STARTTLS (the password is never sent in clear); use the variable ' +
      'rather than the flag: a flag shows in the process list.',
    parse: parseSmtpUrl,
    credentials: true,
  },
  {
    key: 'smtpFrom',
    env: 'HOOKSTER_SMTP_FROM',
    flag: 'smtp-from',
    default: 'Hookster <hookster@localhost>',
    description: 'Sender address of notification e-mails.',
    parse: parseText,
  },
  {
    key: 'notifyWindowMs',
    env: 'HOOKSTER_NOTIFY_WINDOW',
    flag: 'notify-window',
    default: '15m',
    description: 'At most one notification e-mail per integration per window (a digest).',
    parse: parsePositiveDuration,
  },
  {
    key: 'sourceSystem',
    env: 'HOOKSTER_SOURCE_SYSTEM',
    flag: 'source-system',
    default: 'engine.hubster.io',
    description: 'Value of the `x-source-system` header on every webhook request.',
    parse: parseText,
  },
  {
    key: 'bodyLimitBytes',
    env: 'HOOKSTER_BODY_LIMIT',
    flag: 'body-limit',
    default: '1MiB',
    description:
      'Largest accepted request body (bytes, or with a unit `KiB` `MiB` `KB` `MB`); larger gets 413.',
    parse: parseBytes,
  },
  {
    key: 'requestTimeoutMs',
    env: 'HOOKSTER_REQUEST_TIMEOUT',
    flag: 'request-timeout',
    default: '60s',
    description:
      'Longest time a client may take to send a whole request, headers and body; a slower one is answered ' +
      '408 and its connection closed (a body trickled in byte by byte would otherwise hold it for ever).',
    parse: parsePositiveDuration,
  },
  {
    key: 'logLevel',
    env: 'HOOKSTER_LOG_LEVEL',
    flag: 'log-level',
    default: 'info',
    description: `Log level: ${LOG_LEVELS.join(', ')}. Logs are JSON lines on stdout.`,
    parse: oneOf(LOG_LEVELS),
  },
  {
    key: 'concurrency',
    env: 'HOOKSTER_CONCURRENCY',
    flag: 'concurrency',
    default: '256',
    description: 'Webhook requests in flight per worker process.',
    parse: parseInteger(1, 100_000),
  },
  {
    key: 'perIntegrationConcurrency',
    env: 'HOOKSTER_PER_INTEGRATION_CONCURRENCY',
    flag: 'per-integration-concurrency',
    default: '32',
    description:
      'Webhook requests in flight per integration per worker process (fairness between endpoints).',
    parse: parseInteger(1, 100_000),
  },
  {
    key: 'dispatchThread',
    env: 'HOOKSTER_DISPATCH_THREAD',
    flag: 'dispatch-thread',
    default: 'auto',
    description:
      'Run the webhook dispatcher (roles worker and all) on a worker thread, so signing, sending and ' +
      'recording deliveries use a second CPU core while the main thread serves the API: auto, true or ' +
      'false. auto (the default) = on for a SQLite file (measured 15–20 % more deliveries/s end to end on ' +
      '2 cores, docs/benchmarks.md), off for PostgreSQL (there the thread opens a second connection pool ' +
      'and LISTEN connection per process; scale out with more worker processes instead). ' +
      'An in-memory SQLite database always dispatches on the main thread.',
    parse: (text: string): boolean | 'auto' => {
      const value = oneOf(['auto', 'true', 'false'])(text);
      return value === 'auto' ? 'auto' : value === 'true';
    },
  },
  {
    key: 'dispatchThreadNice',
    env: 'HOOKSTER_DISPATCH_THREAD_NICE',
    flag: 'dispatch-thread-nice',
    default: '5',
    description:
      'Linux: the dispatch thread runs this many nice steps below the main thread (0–19; 0 = the same ' +
      'priority), so when the cores are busy, answering submissions comes before sending deliveries, ' +
      'which wait in the database. Measured on 2 cores (docs/benchmarks.md, twelfth session): 5 % more ' +
      'deliveries/s end to end, a few tenths of a ms more on the slowest deliveries at 1,000/s. Other ' +
      'systems ignore it.',
    parse: parseInteger(0, 19),
  },
  {
    key: 'batchMaxActivities',
    env: 'HOOKSTER_BATCH_MAX_ACTIVITIES',
    flag: 'batch-max-activities',
    default: '100',
    description: 'Most activities in one System webhook body.',
    parse: parseInteger(1, 10_000),
  },
  {
    key: 'batchMaxBytes',
    env: 'HOOKSTER_BATCH_MAX_BYTES',
    flag: 'batch-max-bytes',
    default: '256KiB',
    description:
      'Largest System webhook body built by batching (a single larger activity is still sent alone).',
    parse: parseBytes,
  },
  {
    key: 'wsPingIntervalMs',
    env: 'HOOKSTER_WS_PING_INTERVAL',
    flag: 'ws-ping-interval',
    default: '15s',
    description:
      'Websocket gateway: period of the keep-alive ping sent to every connection. Keep it well below the ' +
      "clients' server time-out (30 s in the SignalR clients).",
    parse: parsePositiveDuration,
  },
  {
    key: 'wsClientTimeoutMs',
    env: 'HOOKSTER_WS_CLIENT_TIMEOUT',
    flag: 'ws-client-timeout',
    default: '30s',
    description:
      'Websocket gateway: a connection from which nothing arrives for this long is closed as timed out ' +
      '(SignalR clients ping every 15 s).',
    parse: parsePositiveDuration,
  },
  {
    key: 'wsSendBufferBytes',
    env: 'HOOKSTER_WS_SEND_BUFFER',
    flag: 'ws-send-buffer',
    default: '1MiB',
    description:
      'Websocket gateway: unsent bytes one connection may queue; a client that stops reading is ' +
      'disconnected once its queue passes this bound (the others are not delayed).',
    parse: parseBytes,
  },
  {
    key: 'wsOutcomeWaitMs',
    env: 'HOOKSTER_WS_OUTCOME_WAIT',
    flag: 'ws-outcome-wait',
    default: '1s',
    description:
      'Websocket gateway with several engine processes (PostgreSQL): how long a process that had no ' +
      'connection for an activity waits for another process to report it delivered before recording ' +
      '`no connection`.',
    parse: parsePositiveDuration,
  },
];

/** JSON shape of a `--config` file: the settings' keys, each as text, number, boolean or list. */
export const ConfigFileSchema = Type.Object(
  Object.fromEntries(
    settings.map((s): [string, TSchema] => [
      s.key,
      Type.Optional(
        Type.Union(
          [
            Type.String(),
            Type.Number(),
            Type.Boolean(),
            Type.Array(Type.Union([Type.String(), Type.Number()])),
          ],
          {
            description: s.description,
            default: s.default,
            env: s.env,
          },
        ),
      ),
    ]),
  ),
  { additionalProperties: false },
);
