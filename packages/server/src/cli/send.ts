// `hookster send`: submits a test activity to a conversation through the API and prints the engine's answer.
import { parseArgs } from 'node:util';
import { parseDuration } from '../domain/duration.js';
import { UsageError, withAttachedValues } from './options.js';
import {
  HooksterApiError,
  HooksterClient,
  type InboundActivity,
  type SubmitResponse,
} from '@hookster/sdk/client';

export const SEND_USAGE = `usage: hookster send --token TOKEN --conversation CONVERSATION_ID [--text "hello"] [--url http://127.0.0.1:8080]
                    [--sender INTEGRATION_ID] [--external-id ID] [--timeout 30s]
Submits a text message as the conversation's customer, or as the agent/bot --sender (business route).`;

export interface SendOptions {
  url: string;
  token: string;
  conversationId: string;
  text: string;
  senderIntegrationId?: string;
  externalId?: string;
  /** How long to wait for the engine's answer (default 30 s). */
  timeoutMs?: number;
}

/** Longest --timeout: a test submission waits at most this long. */
const MAX_TIMEOUT_MS = 600_000;

function isHttpUrl(text: string): boolean {
  try {
    return /^https?:$/.test(new URL(text).protocol);
  } catch {
    return false;
  }
}

/** Parses the flags of `hookster send`; throws an Error carrying the usage text on bad input. */
export function parseSendArgs(argv: string[]): SendOptions {
  const options = {
    url: { type: 'string', default: 'http://127.0.0.1:8080' },
    token: { type: 'string' },
    conversation: { type: 'string' },
    text: { type: 'string', default: 'Hello from hookster send' },
    sender: { type: 'string' },
    'external-id': { type: 'string' },
    timeout: { type: 'string', default: '30s' },
  } as const;
  const { values } = parseArgs({
    args: withAttachedValues(argv, Object.keys(options)),
    options,
    strict: true,
    allowPositionals: false,
  });
  if (values.token === undefined || values.token === '')
    throw new UsageError(`--token is required\n${SEND_USAGE}`);
  if (values.conversation === undefined || values.conversation === '') {
    throw new UsageError(`--conversation is required\n${SEND_USAGE}`);
  }
  if (!isHttpUrl(values.url)) {
    throw new UsageError(`--url must be an http(s) URL such as http://127.0.0.1:8080\n${SEND_USAGE}`);
  }
  const timeoutMs = parseDuration(values.timeout);
  if (timeoutMs === undefined || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new UsageError(`--timeout must be a duration from 1ms to 10m, such as 30s\n${SEND_USAGE}`);
  }
  return {
    timeoutMs,
    url: values.url,
    token: values.token,
    conversationId: values.conversation,
    text: values.text,
    senderIntegrationId: values.sender,
    externalId: values['external-id'],
  };
}

/** Submits the activity; returns the engine's submit response. */
export async function sendActivity(options: SendOptions): Promise<SubmitResponse> {
  const client = new HooksterClient({
    url: options.url,
    token: options.token,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  const activity: InboundActivity = {
    type: 'message',
    message: { type: 'text', text: options.text },
    ...(options.externalId === undefined ? {} : { externalId: options.externalId }),
    ...(options.senderIntegrationId === undefined
      ? {}
      : { sender: { integrationId: options.senderIntegrationId } }),
  };
  return options.senderIntegrationId === undefined
    ? client.submitCustomerActivity(options.conversationId, activity)
    : client.submitBusinessActivity(options.conversationId, activity);
}

/** `hookster send …`: prints the submit response as JSON; resolves with the exit code (1 when refused). */
export async function runSend(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${SEND_USAGE}\n`);
    return 0;
  }
  const options = parseSendArgs(argv);
  // Why a handle of our own: when the server closes the connection while the request is sent, Node 20's
  // fetch can leave its promise unsettled, and its time-out timer does not hold the process: with
  // nothing else pending the process ended with code 0 and said nothing, as if the send had worked.
  const keepAlive = setInterval(() => undefined, 60_000);
  try {
    const response = await sendActivity(options);
    process.stdout.write(`${JSON.stringify(response, null, 2)}\n`);
    return 0;
  } catch (error) {
    const reason = unreachable(error, options);
    if (reason !== undefined) {
      process.stderr.write(`hookster send: ${reason}\n`);
      return 1;
    }
    if (!(error instanceof HooksterApiError)) throw error;
    process.stderr.write(`hookster send: ${error.message}\n`);
    return 1;
  } finally {
    clearInterval(keepAlive);
  }
}

/** Why the engine at --url gave no answer (a time-out, a refused or dropped connection), in one line. */
function unreachable(error: unknown, options: SendOptions): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.name === 'TimeoutError') {
    return `no answer from ${options.url} within ${options.timeoutMs ?? 30_000} ms`;
  }
  if (error instanceof TypeError && error.message === 'fetch failed') {
    const cause = (error as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? cause.message : String(cause);
    return `cannot reach ${options.url}: ${detail}`;
  }
  return undefined;
}
