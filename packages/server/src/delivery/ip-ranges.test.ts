// Address classification (every non-public IPv4/IPv6 range) and CIDR matching for the egress guard.
import { describe, expect, it } from 'vitest';
import { cidrContains, classifyAddress, parseAddress, parseCidr } from './ip-ranges.js';

const classify = (text: string) => {
  const parsed = parseAddress(text);
  if (!parsed) throw new Error(`not an address: ${text}`);
  return classifyAddress(parsed);
};

describe('classifyAddress', () => {
  it('names every non-public IPv4 range', () => {
    const cases: [string, string][] = [
      ['0.0.0.0', 'unspecified'],
      ['10.1.2.3', 'private'],
      ['100.64.0.1', 'shared address space'],
      ['100.127.255.255', 'shared address space'],
      ['127.0.0.1', 'loopback'],
      ['127.255.0.9', 'loopback'],
      ['169.254.169.254', 'link-local'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.0.0.8', 'reserved'],
      ['192.0.2.1', 'documentation'],
      ['192.168.1.1', 'private'],
      ['198.18.0.1', 'benchmarking'],
      ['198.19.255.1', 'benchmarking'],
      ['224.0.0.1', 'multicast'],
      ['239.255.255.250', 'multicast'],
      ['240.0.0.1', 'reserved'],
      ['255.255.255.255', 'broadcast'],
    ];
    for (const [address, label] of cases) expect(classify(address), address).toContain(label);
  });

  it('lets public IPv4 addresses through, including the neighbours of private ranges', () => {
    for (const address of [
      '1.1.1.1',
      '8.8.8.8',
      '172.15.255.255',
      '172.32.0.1',
      '100.63.255.255',
      '100.128.0.0',
      '198.20.0.1',
      '11.0.0.1',
    ]) {
      expect(classify(address), address).toBeUndefined();
    }
  });

  it('names every non-public IPv6 range and embedded private IPv4', () => {
    const cases: [string, string][] = [
      ['::', 'unspecified'],
      ['::1', 'loopback'],
      ['::ffff:127.0.0.1', 'IPv4-mapped 127.0.0.1, loopback'],
      ['::ffff:7f00:1', 'IPv4-mapped 127.0.0.1, loopback'],
      ['::ffff:a9fe:a9fe', 'IPv4-mapped 169.254.169.254, link-local'],
      ['::7f00:1', 'IPv4-compatible 127.0.0.1, loopback'],
      ['::808:808', 'IPv4-compatible (deprecated)'],
      ['64:ff9b::a00:1', 'NAT64 10.0.0.1, private'],
      ['64:ff9b::192.168.0.1', 'NAT64 192.168.0.1, private'],
      ['64:ff9b:1::1', 'local-use NAT64'],
      ['2002:7f00:1::1', '6to4 127.0.0.1, loopback'],
      ['fc00::1', 'unique local'],
      ['fd12:3456::1', 'unique local'],
      ['fe80::1', 'link-local'],
      ['fe80::1%eth0', 'link-local'],
      ['febf::1', 'link-local'],
      ['fec0::1', 'site-local'],
      ['ff02::1', 'multicast'],
      ['2001:db8::1', 'documentation'],
      ['2001::1', 'Teredo'],
      ['100::1', 'discard-only'],
      ['4000::1', 'reserved'],
      ['[::1]', 'loopback'],
    ];
    for (const [address, label] of cases) expect(classify(address), address).toContain(label);
  });

  it('lets public IPv6 addresses and public embedded IPv4 through', () => {
    for (const address of [
      '2606:4700:4700::1111',
      '2a00:1450:4001:80b::200e',
      '::ffff:8.8.8.8',
      '64:ff9b::808:808',
    ]) {
      expect(classify(address), address).toBeUndefined();
    }
  });

  it('does not parse host names or legacy IPv4 notations (URL parsing canonicalises those first)', () => {
    expect(parseAddress('localhost')).toBeUndefined();
    expect(parseAddress('127.1')).toBeUndefined();
    expect(parseAddress('2130706433')).toBeUndefined();
  });
});

describe('cidrContains', () => {
  it('matches IPv4 and IPv6 prefixes', () => {
    const net10 = parseCidr('10.0.0.0/8');
    const loop6 = parseCidr('::1');
    const ula = parseCidr('fc00::/7');
    if (!net10 || !loop6 || !ula) throw new Error('cidr');
    const at = (text: string) => parseAddress(text) ?? { family: 4 as const, value: 0 };
    expect(cidrContains(net10, at('10.200.3.4'))).toBe(true);
    expect(cidrContains(net10, at('11.0.0.1'))).toBe(false);
    expect(cidrContains(net10, at('::ffff:10.9.9.9'))).toBe(true);
    expect(cidrContains(loop6, at('::1'))).toBe(true);
    expect(cidrContains(loop6, at('::2'))).toBe(false);
    expect(cidrContains(ula, at('fdff::1'))).toBe(true);
    expect(cidrContains(ula, at('fe00::1'))).toBe(false);
  });

  it('rejects malformed CIDRs', () => {
    for (const text of ['10.0.0.0/33', '::/129', '10.0.0.0/x', 'example.com', ''])
      expect(parseCidr(text)).toBeUndefined();
    expect(parseCidr('0.0.0.0/0')?.prefix).toBe(0);
  });
});
