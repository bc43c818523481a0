// `hookster send`: submits a test activity to a conversation through the API and prints the engine's answer.
import { parseArgs } from 'node:util';
import { UsageError, withAttachedValues } from './options.js';
import {
  HooksterApiError,
  HooksterClient,
  type InboundActivity,
  type SubmitResponse,
} from '@hookster/sdk/client';

export const SEND_USAGE = `usage: hookster send --token TOKEN --conversation CONVERSATION_ID [--text "hello"] [--url http://127.0.0.1:8080]
                    [--sender INTEGRATION_ID] [--external-id ID]
Submits a text message as the conversation's customer, or as the agent/bot --sender (business route).`;

export interface SendOptions {
  url: string;
  token: string;
  conversationId: string;
  text: string;
  senderIntegrationId?: string;
  externalId?: string;
}

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
  return {
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
  const client = new HooksterClient({ url: options.url, token: options.token });
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
  try {
    const response = await sendActivity(options);
    process.stdout.write(`${JSON.stringify(response, null, 2)}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof HooksterApiError)) throw error;
    process.stderr.write(`hookster send: ${error.message}\n`);
    return 1;
  }
}
