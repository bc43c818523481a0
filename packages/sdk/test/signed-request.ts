// Builds a request signed the way the engine signs (both schemes) and sends it to a local receiver.
import { signHubster, signStandard, standardSecretFromPrivateKey } from '../src/index.js';
import { hubsterVectors } from './vectors.js';

export const vector = hubsterVectors.vectors[1]!;
export const keys = { [vector.publicSigningKey]: vector.privateSigningKey };

export function signedHeaders(body: string, privateKey = vector.privateSigningKey): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  return {
    'content-type': 'application/json; charset=utf-8',
    'x-source-system': 'engine.hubster.io',
    'x-hub-id': vector.headers['x-hub-id']!,
    'x-integration-id': vector.headers['x-integration-id']!,
    'x-conversation-id': vector.headers['x-conversation-id']!,
    'x-hubster-public-key': vector.publicSigningKey,
    'x-hubster-signature': signHubster(body, privateKey),
    'webhook-id': 'dlv_test',
    'webhook-timestamp': timestamp,
    'webhook-signature': signStandard('dlv_test', timestamp, body, standardSecretFromPrivateKey(privateKey)),
  };
}

export interface Answer {
  status: number;
  body: string;
}

/** POSTs `body` with `headers` and returns status and text. */
export async function post(url: string, body: string, headers: Record<string, string>): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.text() };
}

/** The three requests every adapter test sends: genuine, tampered body, wrong key. */
export function requestSet(): {
  name: string;
  body: string;
  headers: Record<string, string>;
  status: number;
}[] {
  const body = vector.body;
  return [
    { name: 'genuine', body, headers: signedHeaders(body), status: 200 },
    { name: 'tampered', body: body.replace('Oui', 'Si'), headers: signedHeaders(body), status: 403 },
    { name: 'wrong key', body, headers: signedHeaders(body, vector.publicSigningKey), status: 403 },
  ];
}
