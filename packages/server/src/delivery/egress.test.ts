// The egress guard through the real transport: private and metadata destinations refused unless listed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestReceiver, startTestReceiver } from '../../test/delivery/receiver.js';
import { createEgressGuard } from './egress.js';
import { createTransport } from './transport.js';

// Loopback notations that really reach the local receiver (listening dual-stack on ::) when allowed.
const loopbackNotations: [host: string, allowEntry: string, reason: RegExp][] = [
  ['127.0.0.1', '127.0.0.1', /127\.0\.0\.1 is loopback/],
  ['127.1', '127.0.0.0/8', /127\.0\.0\.1 is loopback/],
  ['2130706433', '127.0.0.0/8', /127\.0\.0\.1 is loopback/],
  ['0x7f.1', '127.0.0.1/32', /127\.0\.0\.1 is loopback/],
  ['0177.0.0.1', '127.0.0.0/8', /127\.0\.0\.1 is loopback/],
  ['0.0.0.0', '0.0.0.0', /0\.0\.0\.0 is unspecified/],
  ['0', '0.0.0.0/8', /0\.0\.0\.0 is unspecified/],
  ['[::1]', '::1', /::1 is loopback/],
  ['[::ffff:127.0.0.1]', '127.0.0.0/8', /::ffff:7f00:1 is IPv4-mapped 127\.0\.0\.1, loopback/],
  ['[0:0:0:0:0:ffff:7f00:1]', '::ffff:7f00:1', /IPv4-mapped 127\.0\.0\.1, loopback/],
  ['localhost', 'localhost', /localhost resolves to (127\.0\.0\.1|::1), loopback/],
];

// Non-public destinations that are never dialled in tests: refused before any connection is made.
const remoteNotations: [host: string, reason: RegExp][] = [
  ['169.254.169.254', /169\.254\.169\.254 is link-local/],
  ['10.0.0.1', /is private/],
  ['10.255.255.254', /is private/],
  ['172.16.0.1', /is private/],
  ['172.31.1.1', /is private/],
  ['192.168.1.1', /is private/],
  ['100.64.0.1', /shared address space/],
  ['198.18.0.1', /benchmarking/],
  ['224.0.0.1', /multicast/],
  ['255.255.255.255', /broadcast/],
  ['240.0.0.1', /reserved/],
  ['[fc00::1]', /unique local/],
  ['[fd00::abcd]', /unique local/],
  ['[fe80::1]', /link-local/],
  ['[ff02::1]', /multicast/],
  ['[::]', /unspecified/],
  ['[::ffff:169.254.169.254]', /IPv4-mapped 169\.254\.169\.254, link-local/],
  ['[::10.0.0.1]', /IPv4-compatible 10\.0\.0\.1, private/],
  ['[64:ff9b::10.0.0.1]', /NAT64 10\.0\.0\.1, private/],
  ['[2002:a00:1::1]', /6to4 10\.0\.0\.1, private/],
];

let hook: TestReceiver;
beforeAll(async () => {
  hook = await startTestReceiver((_req, res) => res.end('ok'), '::');
});
afterAll(async () => {
  await hook.close();
});

async function post(host: string, egressAllow: string[], path = '/hook') {
  const transport = createTransport({ egressAllow, connectTimeoutMs: 1000 });
  try {
    return await transport.send({
      url: `http://${host}:${hook.port}${path}`,
      headers: {},
      body: '{}',
      timeoutMs: 2000,
    });
  } finally {
    await transport.close();
  }
}

describe('egress guard', () => {
  it('refuses every loopback notation with an empty allow-list, before connecting', async () => {
    const before = hook.connections();
    for (const [host, , reason] of loopbackNotations) {
      const outcome = await post(host, []);
      expect(outcome.error, host).toMatch(/^egress refused: /);
      expect(outcome.error, host).toMatch(reason);
      expect(outcome.statusCode, host).toBeUndefined();
    }
    expect(hook.connections()).toBe(before);
  });

  it('delivers to every loopback notation when it is listed', async () => {
    for (const [host, allowEntry] of loopbackNotations) {
      const outcome = await post(host, [allowEntry], `/via/${encodeURIComponent(host)}`);
      expect(outcome, host).toMatchObject({ statusCode: 200, excerpt: 'ok' });
      expect(outcome.error, host).toBeUndefined();
    }
  });

  it('refuses private, link-local, metadata, multicast and embedded-IPv4 destinations with a clear reason', async () => {
    for (const [host, reason] of remoteNotations) {
      const outcome = await post(host, []);
      expect(outcome.error, host).toMatch(/^egress refused: /);
      expect(outcome.error, host).toMatch(reason);
    }
  });

  it('lets each of those through the guard when its range is listed', () => {
    const guard = createEgressGuard([
      '169.254.0.0/16',
      '10.0.0.0/8',
      '172.16.0.0/12',
      '192.168.0.0/16',
      '100.64.0.0/10',
      '198.18.0.0/15',
      '224.0.0.0/4',
      '255.255.255.255',
      '240.0.0.0/4',
      'fc00::/7',
      'fe80::/10',
      'ff00::/8',
      '::/128',
      '64:ff9b::/96',
      '2002::/16',
      '::/96',
    ]);
    for (const [host] of remoteNotations) {
      const address = new URL(`http://${host}/`).hostname.replace(/^\[|\]$/g, '');
      expect(guard.refusal(address), host).toBeUndefined();
    }
    expect(guard.refusal('127.0.0.1')).toBe('loopback');
    expect(guard.refusal('8.8.8.8')).toBeUndefined();
  });

  it('matches allow-listed host names exactly or by a *. suffix', () => {
    const guard = createEgressGuard(['receiver.test', '*.corp.example']);
    expect(guard.hostAllowed('receiver.test')).toBe(true);
    expect(guard.hostAllowed('RECEIVER.test.')).toBe(true);
    expect(guard.hostAllowed('a.b.corp.example')).toBe(true);
    expect(guard.hostAllowed('corp.example.evil')).toBe(false);
    expect(guard.hostAllowed('other.test')).toBe(false);
    // A suffix written with a trailing dot matches like one without (it matched nothing before).
    const dotted = createEgressGuard(['*.corp.example.']);
    expect(dotted.hostAllowed('a.corp.example')).toBe(true);
    expect(dotted.hostAllowed('a.corp.example.')).toBe(true);
  });
});
