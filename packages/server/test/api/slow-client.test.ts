// A client that trickles its request: answered 408 and cut off after HOOKSTER_REQUEST_TIMEOUT (Fastify
// sets no limit by default, so a body sent a byte at a time held its connection for ever), while
// other clients are served meanwhile.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/client.js';
import { startEngine, type RunningEngine } from '../support/engine.js';

let engine: RunningEngine;

beforeAll(async () => {
  engine = await startEngine({ env: { HOOKSTER_REQUEST_TIMEOUT: '1s' } });
});

afterAll(async () => {
  await engine?.stop();
});

/**
 * POSTs `path` announcing a 1,000-byte body, then sends one byte every 200 ms (as a slow-body attack
 * does) until the server closes the connection; resolves with everything it answered (10 s bound).
 */
async function trickleUntilClosed(path: string): Promise<string> {
  const { hostname, port } = new URL(engine.url);
  const socket = connect(Number(port), hostname);
  socket.setEncoding('utf8');
  let data = '';
  socket.on('data', (chunk: string) => (data += chunk));
  const closed = new Promise<void>((resolve, reject) => {
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`,
  );
  const trickle = setInterval(() => socket.writable && socket.write(' '), 200);
  try {
    await Promise.race([
      closed,
      new Promise<never>((_resolve, reject) =>
        setTimeout(() => reject(new Error(`still open after 10 s; received: ${data}`)), 10_000),
      ),
    ]);
  } finally {
    clearInterval(trickle);
  }
  return data;
}

describe('a request that never finishes arriving', () => {
  it('is answered 408 and its connection closed, without an account', async () => {
    const data = await trickleUntilClosed('/connect/token');
    expect(data).toMatch(/^HTTP\/1\.1 408 /);
    expect(data).toMatch(/HOOKSTER_REQUEST_TIMEOUT/);
    expect((await apiClient(engine.url, null).get('/healthz')).status).toBe(200);
  });

  it('answered before its body was read (401), closes the connection instead of a second answer later', async () => {
    const data = await trickleUntilClosed('/api/v1/hubs');
    expect(data).toMatch(/^HTTP\/1\.1 401 /);
    expect(data.toLowerCase()).toContain('connection: close');
    // One answer only: no 408 written after the 401.
    expect(data.match(/HTTP\/1\.1 /g)).toHaveLength(1);
  });
});
