// `hookster listen`: a local receiver that verifies each delivery with the SDK, pretty-prints it, and answers 200 or 403.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { UsageError } from './options.js';
import {
  createReceiver,
  type Activity,
  type Delivery,
  type Message,
  type SignatureScheme,
  isWebhookVerificationError,
  PayloadError,
} from '@hookster/sdk';
import { BodyTooLargeError, readRawBody } from '@hookster/sdk/node';

export interface ListenOptions {
  port: number;
  host: string;
  /** Public key → private key. */
  keys: Map<string, string>;
  scheme: SignatureScheme;
  /** Where the blocks are printed. */
  out: NodeJS.WritableStream & { isTTY?: boolean };
  /** Colour on or off; default: on when `out` is a TTY and NO_COLOR is unset. */
  colour?: boolean;
}

export interface RunningListener {
  url: string;
  close(): Promise<void>;
}

export const LISTEN_USAGE = `usage: hookster listen --key PUBLIC:PRIVATE [--key PUBLIC:PRIVATE ...] [--port 4000] [--host 127.0.0.1]
                      [--scheme both|hubster|standard]
Verifies each webhook delivery, prints one block per activity, answers 200 (or 403 on a bad signature).`;

/** Parses the flags of `hookster listen`; throws an Error carrying the usage text on bad input. */
export function parseListenArgs(argv: string[]): Omit<ListenOptions, 'out'> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '4000' },
      host: { type: 'string', default: '127.0.0.1' },
      key: { type: 'string', multiple: true },
      scheme: { type: 'string', default: 'both' },
    },
    strict: true,
    allowPositionals: false,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be 0..65535\n${LISTEN_USAGE}`);
  const keys = new Map<string, string>();
  for (const pair of values.key ?? []) {
    const [publicKey, privateKey, ...rest] = pair.split(':');
    if (!publicKey || !privateKey || rest.length > 0) {
      throw new UsageError(`--key must be PUBLIC:PRIVATE, got ${JSON.stringify(pair)}\n${LISTEN_USAGE}`);
    }
    keys.set(publicKey, privateKey);
  }
  if (keys.size === 0) throw new UsageError(`at least one --key PUBLIC:PRIVATE is required\n${LISTEN_USAGE}`);
  const scheme = values.scheme as SignatureScheme;
  if (!['both', 'hubster', 'standard'].includes(scheme))
    throw new UsageError(`--scheme must be both, hubster or standard\n${LISTEN_USAGE}`);
  return { port, host: values.host, keys, scheme };
}

/** Starts the receiver; resolves once it listens. */
export async function startListener(options: ListenOptions): Promise<RunningListener> {
  const paint = painter(options.colour ?? (options.out.isTTY === true && process.env.NO_COLOR === undefined));
  const singleKey = options.keys.size === 1 ? [...options.keys.values()][0] : undefined;
  // With one key and the standard scheme no public key header is needed; otherwise look it up.
  const receiver = createReceiver({
    keys: options.scheme === 'standard' && singleKey !== undefined ? singleKey : options.keys,
    scheme: options.scheme,
  });
  const server = http.createServer((req, res) => {
    void (async () => {
      const started = new Date();
      try {
        const body = await readRawBody(req);
        const delivery = await receiver.receive(req.headers, body);
        res.writeHead(200).end();
        options.out.write(formatDelivery(delivery, req, started, paint));
      } catch (error) {
        const status = statusOf(error);
        const reason = isWebhookVerificationError(error)
          ? error.reason
          : (REASON_OF_STATUS[status] ?? 'error');
        if (!res.headersSent) {
          res
            .writeHead(status, { 'content-type': 'application/json' })
            .end(JSON.stringify({ error: reason, message: (error as Error).message }));
        }
        options.out.write(formatRejection(status, reason, (error as Error).message, req, started, paint));
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** `hookster listen …`: runs until SIGINT or SIGTERM, then resolves with exit code 0. */
export async function runListen(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${LISTEN_USAGE}\n`);
    return 0;
  }
  const options = parseListenArgs(argv);
  const listener = await startListener({ ...options, out: process.stdout });
  process.stdout.write(
    `hookster listen: verifying deliveries on ${listener.url} (${options.keys.size} key(s), scheme ${options.scheme}); Ctrl-C to stop\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await listener.close();
  return 0;
}

const REASON_OF_STATUS: Record<number, string> = { 400: 'invalid_payload', 413: 'body_too_large' };

function statusOf(error: unknown): number {
  if (isWebhookVerificationError(error)) return 403;
  if (error instanceof PayloadError) return 400;
  if (error instanceof BodyTooLargeError) return 413;
  return 500;
}

interface Paint {
  green(text: string): string;
  red(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
  cyan(text: string): string;
}

function painter(enabled: boolean): Paint {
  const wrap = (code: string) => (text: string) => (enabled ? `\u001b[${code}m${text}\u001b[0m` : text);
  return { green: wrap('32'), red: wrap('31'), dim: wrap('2'), bold: wrap('1'), cyan: wrap('36') };
}

function requestLine(req: http.IncomingMessage, started: Date): string {
  return `${started.toISOString()} ${req.method ?? ''} ${req.url ?? ''}`;
}

/** One header block for the delivery, then one block per activity. */
export function formatDelivery(
  delivery: Delivery,
  req: http.IncomingMessage,
  started: Date,
  paint: Paint,
): string {
  const kind = 'activities' in delivery.payload ? 'System' : 'Direct';
  const lines = [
    `${paint.green('✔ 200')} ${paint.bold(`${kind} delivery`)} ${delivery.webhookId ?? ''} ${paint.dim(requestLine(req, started))}`,
    paint.dim(
      `  hub ${delivery.payload.hubId} · integration ${delivery.payload.integrationId} · conversation ${delivery.payload.conversationId}`,
    ),
  ];
  for (const activity of delivery.activities) lines.push(...formatActivity(scrub(activity), paint));
  return `${lines.join('\n')}\n\n`;
}

/** C0 controls, DEL and C1 controls: the bytes a terminal acts on (ESC sequences, BEL, CSI…). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Every string of an activity with its control characters written as escapes (`\n`, `\u001b`): a
 * customer's message is printed to the operator's terminal and must not drive it (clear the screen,
 * set the title, fake a line of this tool's output).
 */
function scrub<T>(value: T): T {
  if (typeof value === 'string') {
    return value.replace(CONTROL, (c) =>
      c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    ) as T;
  }
  if (Array.isArray(value)) return value.map(scrub) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, scrub(item)])) as T;
  }
  return value;
}

function formatRejection(
  status: number,
  reason: string,
  message: string,
  req: http.IncomingMessage,
  started: Date,
  paint: Paint,
): string {
  const label =
    ({ 403: 'BAD SIGNATURE', 400: 'BAD PAYLOAD', 413: 'TOO LARGE' } as Record<number, string>)[status] ??
    'ERROR';
  return `${paint.red(`✘ ${status} ${label}`)} ${paint.bold(reason)} ${paint.dim(requestLine(req, started))}\n  ${paint.red(message)}\n\n`;
}

function party(source: Activity['sender']): string {
  if (source === undefined) return '?';
  return `${source.integrationType ?? '?'}${source.channelType === undefined ? '' : ` (${source.channelType})`}`;
}

function formatActivity(activity: Activity, paint: Paint): string[] {
  const when = new Date(activity.eventId).toISOString();
  const flags = [
    activity.isEcho ? 'echo' : '',
    activity.externalId === undefined ? '' : `externalId ${activity.externalId}`,
  ].filter(Boolean);
  const lines = [
    `  ${paint.cyan(activity.eventTrigger)} #${activity.eventId} ${paint.dim(when)}${flags.length === 0 ? '' : ` [${flags.join(', ')}]`}`,
    `    ${party(activity.sender)} → ${party(activity.recipient)}`,
  ];
  if (activity.type === 'message') lines.push(...formatMessage(activity.message, '    '));
  else
    lines.push(
      `    event ${activity.event.type}${activity.event.type === 'payload' ? ` ${activity.event.payloadType} ${JSON.stringify(activity.event.payload)}` : ''}`,
    );
  return lines;
}

function formatMessage(message: Message, indent: string): string[] {
  const lines: string[] = [];
  switch (message.type) {
    case 'text':
      if (message.text !== undefined) lines.push(`${indent}text: ${message.text}`);
      for (const item of message.items ?? []) lines.push(...formatMessage(item, `${indent}  `));
      break;
    case 'carousel':
    case 'list':
      lines.push(`${indent}${message.type}:`);
      for (const item of message.items) {
        lines.push(
          `${indent}  • ${item.title}${item.content === undefined ? '' : ` — ${item.content}`}${item.url === undefined ? '' : ` ${item.url}`}`,
        );
        for (const action of item.actions ?? []) lines.push(`${indent}    ${formatAction(action)}`);
      }
      break;
    case 'location':
      lines.push(`${indent}location: ${message.address ?? `${message.latitude}, ${message.longitude}`}`);
      break;
    case 'contact':
    case 'command':
      lines.push(`${indent}${message.type}: ${message.title ?? ''}`);
      break;
    case 'card':
      lines.push(`${indent}card: ${message.title ?? ''} ${message.url ?? ''}`.trimEnd());
      break;
    default:
      lines.push(`${indent}${message.type}: ${message.url}`);
  }
  if ((message.type === 'text' || message.type === 'list') && message.actions !== undefined) {
    for (const action of message.actions) lines.push(`${indent}${formatAction(action)}`);
  }
  return lines;
}

function formatAction(action: NonNullable<Extract<Message, { type: 'text' }>['actions']>[number]): string {
  return action.type === 'link'
    ? `[link] ${action.title} → ${action.url}`
    : `[${action.type}] ${action.title} → ${action.payload}`;
}
