// Each adapter inside its real framework (node:http, Express, Fastify, Hono on @hono/node-server) receiving
// requests signed like the engine's: 200 for a genuine one, 403 when tampered or signed with another key.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { serve, type ServerType } from '@hono/node-server';
import { createReceiver, type Delivery } from '../src/index.js';
import { createReceiver as createWebReceiver } from '../src/webcrypto.js';
import { hooksterNodeHandler } from '../src/node.js';
import { hooksterFastify } from '../src/fastify.js';
import { hooksterWebHandler } from '../src/web.js';
import { keys, post, requestSet, signedHeaders, vector } from './signed-request.js';

interface Target {
  url: string;
  received: Delivery[];
  close(): Promise<void>;
}

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    );
  });
}

function closeServer(server: http.Server | ServerType): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function startNodeHttp(): Promise<Target> {
  const received: Delivery[] = [];
  const server = http.createServer(
    hooksterNodeHandler({ receiver: createReceiver({ keys }), onDelivery: (d) => void received.push(d) }),
  );
  const url = await listen(server);
  return { url, received, close: () => closeServer(server) };
}

async function startExpress(): Promise<Target> {
  const received: Delivery[] = [];
  const app = express();
  app.post(
    '/hooks',
    hooksterNodeHandler({ receiver: createReceiver({ keys }), onDelivery: (d) => void received.push(d) }),
  );
  app.post(
    '/raw',
    express.raw({ type: '*/*' }),
    hooksterNodeHandler({ receiver: createReceiver({ keys }), onDelivery: (d) => void received.push(d) }),
  );
  // express.json() with a verify hook keeping the bytes, as Google Cloud Functions / Firebase do (req.rawBody).
  app.post(
    '/json-with-raw',
    express.json({
      verify: (req, _res, buf) => {
        (req as http.IncomingMessage & { rawBody?: Buffer }).rawBody = buf;
      },
    }),
    hooksterNodeHandler({ receiver: createReceiver({ keys }), onDelivery: (d) => void received.push(d) }),
  );
  app.use(express.json());
  app.post(
    '/parsed',
    hooksterNodeHandler({ receiver: createReceiver({ keys }), onDelivery: (d) => void received.push(d) }),
  );
  const server = http.createServer(app);
  const base = await listen(server);
  return { url: `${base}/hooks`, received, close: () => closeServer(server) };
}

async function startFastify(): Promise<Target> {
  const received: Delivery[] = [];
  const app = Fastify();
  await app.register(hooksterFastify, {
    prefix: '/hooks',
    receiver: createReceiver({ keys }),
    onDelivery: (delivery) => void received.push(delivery),
  });
  app.post('/json', async (request) => ({ echoed: request.body }));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `${url}/hooks`, received, close: () => app.close() };
}

async function startHono(): Promise<Target> {
  const received: Delivery[] = [];
  const app = new Hono();
  const handler = hooksterWebHandler({
    receiver: createWebReceiver({ keys }),
    onDelivery: (d) => void received.push(d),
  });
  app.post('/hooks', (c) => handler(c.req.raw));
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks`, received, close: () => closeServer(server) };
}

describe.each([
  { name: 'node:http', start: startNodeHttp },
  { name: 'Express', start: startExpress },
  { name: 'Fastify', start: startFastify },
  { name: 'Hono (Web Request, WebCrypto)', start: startHono },
])('$name adapter', ({ start }) => {
  let target: Target;
  beforeAll(async () => {
    target = await start();
  });
  afterAll(() => target.close());

  it('answers 200 to a genuine delivery and 403 to a tampered or foreign-key one', async () => {
    for (const request of requestSet()) {
      const answer = await post(target.url, request.body, request.headers);
      expect({ name: request.name, status: answer.status }).toEqual({
        name: request.name,
        status: request.status,
      });
      if (request.status === 403) expect(JSON.parse(answer.body)).toMatchObject({ error: 'bad_signature' });
    }
    expect(target.received).toHaveLength(1);
    expect(target.received[0]!.payload.integrationId).toBe(vector.headers['x-integration-id']);
  });

  it('answers 403 naming the missing header when the signature is absent', async () => {
    const { 'x-hubster-signature': _gone, ...headers } = signedHeaders(vector.body);
    const answer = await post(target.url, vector.body, headers);
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'missing_header' });
  });

  it('answers 400 with paths when a genuine signature covers an invalid payload', async () => {
    const body = '{"hubId":1}';
    const answer = await post(target.url, body, signedHeaders(body));
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({
      error: 'invalid_payload',
      errors: expect.arrayContaining([{ path: '$.hubId', message: expect.any(String) }]),
    });
  });
});

describe('Express body parsers', () => {
  let target: Target;
  beforeAll(async () => {
    target = await startExpress();
  });
  afterAll(() => target.close());

  it('verifies the Buffer left by express.raw() and refuses it tampered', async () => {
    const answer = await post(target.url.replace('/hooks', '/raw'), vector.body, signedHeaders(vector.body));
    expect(answer.status).toBe(200);
    const tampered = await post(
      target.url.replace('/hooks', '/raw'),
      `${vector.body} `,
      signedHeaders(vector.body),
    );
    expect(tampered.status).toBe(403);
  });

  it('verifies the req.rawBody kept beside a parsed body (Cloud Functions, express.json verify hook)', async () => {
    const url = target.url.replace('/hooks', '/json-with-raw');
    const answer = await post(url, vector.body, signedHeaders(vector.body));
    expect(answer.status).toBe(200);
    const tampered = await post(url, `${vector.body} `, signedHeaders(vector.body));
    expect(tampered.status).toBe(403);
    expect(JSON.parse(tampered.body)).toMatchObject({ error: 'bad_signature' });
  });

  it('refuses with 500 a body already parsed by express.json(), instead of verifying re-serialised JSON', async () => {
    const before = target.received.length;
    const answer = await post(
      target.url.replace('/hooks', '/parsed'),
      vector.body,
      signedHeaders(vector.body),
    );
    expect(answer.status).toBe(500);
    expect(target.received).toHaveLength(before);
  });
});

describe('Fastify encapsulation', () => {
  it('keeps JSON parsing for the routes outside the plugin', async () => {
    const target = await startFastify();
    try {
      const response = await fetch(target.url.replace('/hooks', '/json'), {
        method: 'POST',
        body: '{"a":1}',
        headers: { 'content-type': 'application/json' },
      });
      expect(await response.json()).toEqual({ echoed: { a: 1 } });
    } finally {
      await target.close();
    }
  });
});

describe('Fastify onDelivery', () => {
  it('answers 200 when onDelivery returns the reply it only set a header on', async () => {
    // A Fastify reply is a thenable that settles once it is sent: awaiting the reply an arrow function
    // returned (`reply.header(…)` is chainable) left the request unanswered until the engine timed out.
    const app = Fastify();
    await app.register(hooksterFastify, {
      prefix: '/hooks',
      receiver: createReceiver({ keys }),
      onDelivery: (_delivery, _request, reply) => reply.header('x-processed', 'yes'),
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const response = await fetch(`${url}/hooks`, {
        method: 'POST',
        body: vector.body,
        headers: signedHeaders(vector.body),
        signal: AbortSignal.timeout(3_000),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-processed')).toBe('yes');
    } finally {
      await app.close();
    }
  });
});

describe('Fastify limits', () => {
  it('answers 413 body_too_large like the other adapters and leaves other errors to the app', async () => {
    const app = Fastify();
    app.setErrorHandler((error: { code?: string }, _request, reply) =>
      reply.code(500).send({ handledBy: 'app', code: error.code }),
    );
    await app.register(hooksterFastify, {
      prefix: '/hooks',
      receiver: createReceiver({ keys }),
      maxBodyBytes: 2048,
      onDelivery: () => {
        throw Object.assign(new Error('database down'), { code: 'DB_DOWN' });
      },
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const big = 'x'.repeat(8192);
      const tooLarge = await post(`${url}/hooks`, big, signedHeaders(big));
      expect(tooLarge.status).toBe(413);
      expect(JSON.parse(tooLarge.body)).toMatchObject({ error: 'body_too_large' });
      const failed = await post(`${url}/hooks`, vector.body, signedHeaders(vector.body));
      expect({ status: failed.status, body: JSON.parse(failed.body) as unknown }).toEqual({
        status: 500,
        body: { handledBy: 'app', code: 'DB_DOWN' },
      });
    } finally {
      await app.close();
    }
  });
});

describe('Web Request adapter limits', () => {
  it('refuses a chunked body past maxBodyBytes as soon as it passes, without reading the rest', async () => {
    // Before: the whole body was read into memory first (an endless one was never answered); 32 MiB
    // here, so that reading it whole fails the test rather than the test process.
    const handle = hooksterWebHandler({
      receiver: createWebReceiver({ keys }),
      onDelivery: () => undefined,
      maxBodyBytes: 1 << 20,
    });
    const chunk = new Uint8Array(64 * 1024);
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 32 << 20) return controller.close();
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const request = new Request('http://receiver.test/hooks', {
      method: 'POST',
      headers: signedHeaders(vector.body),
      body: endless,
      duplex: 'half',
    } as RequestInit);
    const answer = await handle(request);
    expect(answer.status).toBe(413);
    // The limit, plus what the stream had queued ahead (its high-water mark), not more.
    expect(pulled).toBeLessThanOrEqual((1 << 20) + 4 * chunk.byteLength);
  });

  it('says the body was already read when a middleware consumed the Request, not "stream is locked"', async () => {
    // Hono's c.req.json() in a middleware consumes c.req.raw; the raw bytes cannot be verified any more.
    const handle = hooksterWebHandler({ receiver: createWebReceiver({ keys }), onDelivery: () => undefined });
    const request = new Request('http://receiver.test/hooks', {
      method: 'POST',
      headers: signedHeaders(vector.body),
      body: vector.body,
    });
    await request.json();
    await expect(handle(request)).rejects.toThrow(/body was already read/);
  });

  it('answers 403, not a TypeError, when a hand-built header record holds a number', async () => {
    const receiver = createReceiver({ keys });
    const headers = { ...signedHeaders(vector.body), 'webhook-timestamp': 1_700_000_000 };
    await expect(
      receiver.receive(headers as unknown as Record<string, string>, vector.body),
    ).rejects.toMatchObject({ name: 'WebhookVerificationError' });
  });
});
