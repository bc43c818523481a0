// Pure IP address parsing and classification for the egress guard: which addresses are not public,
// and CIDR matching for the allow-list. Covers IPv4-mapped, IPv4-compatible, NAT64 and 6to4 forms.

import { isIPv4, isIPv6 } from 'node:net';

/** A parsed address: IPv4 as a 32-bit number, IPv6 as 8 groups of 16 bits. */
export type ParsedAddress = { family: 4; value: number } | { family: 6; groups: number[] };

export interface Cidr {
  family: 4 | 6;
  /** IPv4: 32-bit value; IPv6: 128-bit value. */
  bits: bigint;
  prefix: number;
}

/** Parses a canonical dotted IPv4 or any IPv6 text (with an optional %zone); undefined otherwise. */
export function parseAddress(text: string): ParsedAddress | undefined {
  const plain = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIPv4(plain)) return { family: 4, value: parseIPv4(plain) };
  const noZone = plain.split('%')[0] ?? '';
  if (isIPv6(noZone)) return { family: 6, groups: parseIPv6(noZone) };
  return undefined;
}

function parseIPv4(text: string): number {
  const [a = 0, b = 0, c = 0, d = 0] = text.split('.').map(Number);
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function parseIPv6(text: string): number[] {
  let hex = text;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // A dotted IPv4 tail ("::ffff:127.0.0.1") becomes its two hex groups ("::ffff:7f00:1").
    const tail = parseIPv4(text.slice(lastColon + 1));
    hex = `${text.slice(0, lastColon + 1)}${(tail >>> 16).toString(16)}:${(tail & 0xffff).toString(16)}`;
  }
  const [left = '', right] = hex.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const head = groups(left);
  const end = right === undefined ? [] : groups(right);
  const fill = new Array<number>(Math.max(0, 8 - head.length - end.length)).fill(0);
  return [...head, ...fill, ...end];
}

const v4 = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

// Ordered: the first match names the reason. Sources: IANA IPv4/IPv6 special-purpose registries.
const V4_RANGES: [number, number, string][] = [
  [v4(255, 255, 255, 255), 32, 'broadcast'],
  [v4(0, 0, 0, 0), 8, 'unspecified ("this network")'],
  [v4(10, 0, 0, 0), 8, 'private'],
  [v4(100, 64, 0, 0), 10, 'shared address space (carrier-grade NAT)'],
  [v4(127, 0, 0, 0), 8, 'loopback'],
  [v4(169, 254, 0, 0), 16, 'link-local'],
  [v4(172, 16, 0, 0), 12, 'private'],
  [v4(192, 0, 0, 0), 24, 'reserved (IETF protocol assignments)'],
  [v4(192, 0, 2, 0), 24, 'documentation'],
  [v4(192, 88, 99, 0), 24, 'reserved (6to4 relay anycast)'],
  [v4(192, 168, 0, 0), 16, 'private'],
  [v4(198, 18, 0, 0), 15, 'benchmarking'],
  [v4(198, 51, 100, 0), 24, 'documentation'],
  [v4(203, 0, 113, 0), 24, 'documentation'],
  [v4(224, 0, 0, 0), 4, 'multicast'],
  [v4(240, 0, 0, 0), 4, 'reserved'],
];

function inV4(value: number, base: number, prefix: number): boolean {
  if (prefix === 0) return true;
  const mask = (0xffffffff << (32 - prefix)) >>> 0;
  return (value & mask) >>> 0 === (base & mask) >>> 0;
}

function classifyV4(value: number): string | undefined {
  for (const [base, prefix, label] of V4_RANGES) if (inV4(value, base, prefix)) return label;
  return undefined;
}

/** The embedded IPv4 of mapped (::ffff:0:0/96), compatible (::/96), NAT64 (64:ff9b::/96) and 6to4 (2002::/16). */
export function embeddedIPv4(groups: number[]): { value: number; form: string } | undefined {
  const g = (i: number) => groups[i] ?? 0;
  const low = ((g(6) << 16) | g(7)) >>> 0;
  const zeroTo = (n: number) => groups.slice(0, n).every((x) => x === 0);
  if (zeroTo(5) && g(5) === 0xffff) return { value: low, form: 'IPv4-mapped' };
  if (zeroTo(6) && low > 1) return { value: low, form: 'IPv4-compatible' };
  if (g(0) === 0x64 && g(1) === 0xff9b && groups.slice(2, 6).every((x) => x === 0)) {
    return { value: low, form: 'NAT64' };
  }
  if (g(0) === 0x2002) return { value: ((g(1) << 16) | g(2)) >>> 0, form: '6to4' };
  return undefined;
}

function classifyV6(groups: number[]): string | undefined {
  const g0 = groups[0] ?? 0;
  if (groups.every((x) => x === 0)) return 'unspecified';
  if (groups.slice(0, 7).every((x) => x === 0) && groups[7] === 1) return 'loopback';
  const embedded = embeddedIPv4(groups);
  if (embedded) {
    const inner = classifyV4(embedded.value);
    if (inner !== undefined) return `${embedded.form} ${formatV4(embedded.value)}, ${inner}`;
    // Why refused even when public: the IPv4-compatible form is deprecated and nothing legitimate uses it.
    if (embedded.form === 'IPv4-compatible') return 'IPv4-compatible (deprecated)';
    return undefined;
  }
  if (g0 === 0x64 && groups[1] === 0xff9b) return 'local-use NAT64';
  if ((g0 & 0xfe00) === 0xfc00) return 'unique local';
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local';
  if ((g0 & 0xffc0) === 0xfec0) return 'site-local (deprecated)';
  if ((g0 & 0xff00) === 0xff00) return 'multicast';
  if (g0 === 0x2001 && groups[1] === 0x0db8) return 'documentation';
  if ((g0 & 0xfff0) === 0x3ff0) return 'documentation';
  if (g0 === 0x2001 && (groups[1] ?? 0) < 0x0200) return 'reserved (IETF protocol assignments, Teredo)';
  if (g0 === 0x0100 && groups.slice(1, 4).every((x) => x === 0)) return 'discard-only';
  // Everything outside global unicast 2000::/3 is not routable on the public internet.
  if ((g0 & 0xe000) !== 0x2000) return 'reserved';
  return undefined;
}

/** Why the address is not public (e.g. "loopback"), or undefined when it is a public unicast address. */
export function classifyAddress(address: ParsedAddress): string | undefined {
  return address.family === 4 ? classifyV4(address.value) : classifyV6(address.groups);
}

export function formatV4(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

/** Parses "10.0.0.0/8", "::1/128" or a bare address; undefined when it is not a CIDR. */
export function parseCidr(text: string): Cidr | undefined {
  const [addressText = '', prefixText, extra] = text.trim().split('/');
  if (extra !== undefined) return undefined;
  const address = parseAddress(addressText);
  if (!address) return undefined;
  const max = address.family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d+$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { family: address.family, bits: toBits(address), prefix };
}

function toBits(address: ParsedAddress): bigint {
  if (address.family === 4) return BigInt(address.value);
  return address.groups.reduce((acc, group) => (acc << 16n) | BigInt(group), 0n);
}

/** True when the address is inside the CIDR; an IPv4 CIDR also matches that IPv4 embedded in IPv6. */
export function cidrContains(cidr: Cidr, address: ParsedAddress): boolean {
  let candidate = address;
  if (cidr.family === 4 && address.family === 6) {
    const embedded = embeddedIPv4(address.groups);
    if (!embedded) return false;
    candidate = { family: 4, value: embedded.value };
  }
  if (cidr.family !== candidate.family) return false;
  const width = BigInt(cidr.family === 4 ? 32 : 128);
  const shift = width - BigInt(cidr.prefix);
  return toBits(candidate) >> shift === cidr.bits >> shift;
}
