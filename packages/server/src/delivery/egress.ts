// The egress guard: refuses to dial non-public addresses unless allow-listed, checked on the address
// actually dialled (every DNS answer, IP literals, and the connected socket's peer) so DNS rebinding
// and exotic literal notations cannot reach loopback, private or metadata endpoints.

import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction, type Socket } from 'node:net';
import { buildConnector } from 'undici';
import { type Cidr, cidrContains, classifyAddress, parseAddress, parseCidr } from './ip-ranges.js';

/** A refused destination; its message is the reason recorded on the attempt. */
export class EgressRefusedError extends Error {
  readonly code = 'HOOKSTER_EGRESS_REFUSED';
  constructor(reason: string) {
    super(`egress refused: ${reason}`);
    this.name = 'EgressRefusedError';
  }
}

export interface EgressGuard {
  /** Why dialling this IP address is refused (e.g. "loopback"), or undefined when it is allowed. */
  refusal(address: string): string | undefined;
  /** True when the host name is on the allow-list (its addresses are then not checked). */
  hostAllowed(hostname: string): boolean;
}

/** Builds the guard from allow-list entries: CIDRs ("10.0.0.0/8"), addresses, host names ("*.corp.example"). */
export function createEgressGuard(allow: readonly string[]): EgressGuard {
  const cidrs: Cidr[] = [];
  const hosts = new Set<string>();
  const suffixes: string[] = [];
  for (const raw of allow) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    const cidr = parseCidr(entry);
    if (cidr) cidrs.push(cidr);
    else if (entry.startsWith('*.')) suffixes.push(stripDot(entry.slice(1)));
    else hosts.add(stripDot(entry));
  }
  return {
    refusal(address) {
      const parsed = parseAddress(address);
      if (!parsed) return 'not an IP address';
      const reason = classifyAddress(parsed);
      if (reason === undefined || cidrs.some((cidr) => cidrContains(cidr, parsed))) return undefined;
      return reason;
    },
    hostAllowed(hostname) {
      const host = stripDot(hostname.toLowerCase());
      return hosts.has(host) || suffixes.some((suffix) => host.endsWith(suffix));
    },
  };
}

function stripDot(host: string): string {
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** A `lookup` for net.connect that keeps only the allowed answers and fails when none is left. */
export function guardedLookup(guard: EgressGuard): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, answers: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const allowed = answers.filter((answer) => guard.refusal(answer.address) === undefined);
      const first = allowed[0];
      if (first === undefined) {
        const refused = answers[0];
        const why = refused ? `${refused.address}, ${guard.refusal(refused.address)}` : 'no address';
        return callback(toErrno(new EgressRefusedError(`${hostname} resolves to ${why}`)), '', 0);
      }
      if (options.all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      else callback(null, first.address, first.family);
    });
  };
}

function toErrno(error: EgressRefusedError): NodeJS.ErrnoException {
  return error as unknown as NodeJS.ErrnoException;
}

/** An undici connector that applies the guard to IP literals, to DNS answers and to the connected peer. */
export function createGuardedConnector(guard: EgressGuard, timeoutMs: number): buildConnector.connector {
  const plain = buildConnector({ timeout: timeoutMs });
  const checked = buildConnector({
    timeout: timeoutMs,
    lookup: guardedLookup(guard),
  } as buildConnector.BuildOptions);
  return (options, callback) => {
    const host = options.hostname.startsWith('[') ? options.hostname.slice(1, -1) : options.hostname;
    if (isIP(host) !== 0) {
      // An IP literal is the address dialled: no DNS is involved, so checking it is enough.
      const reason = guard.refusal(host);
      if (reason !== undefined) {
        callback(new EgressRefusedError(`${host} is ${reason}`), null);
        return;
      }
      return plain(options, callback);
    }
    if (guard.hostAllowed(host)) return plain(options, callback);
    return checked(options, (error, socket) => {
      if (error || !socket) return callback(error ?? new Error('no socket'), null);
      // Why checked again: the peer is the address actually dialled, whatever resolved it.
      // Fails closed: a socket without a peer address (closed at once) is not one to send on either.
      const peer = (socket as Socket).remoteAddress;
      const reason = peer === undefined ? 'without a peer address' : guard.refusal(peer);
      if (reason !== undefined) {
        socket.destroy();
        return callback(new EgressRefusedError(`${host} connected to ${peer}, ${reason}`), null);
      }
      callback(null, socket);
    });
  };
}
