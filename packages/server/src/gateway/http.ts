// Plain HTTP answers of the gateway: negotiate responses and refused upgrades (raw socket writes).

import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorItem } from '../domain/errors.js';

/** Hubster's error body: `{ status, errors: [{ code, description }] }`. */
export function errorBody(status: number, errors: ErrorItem[]): string {
  return JSON.stringify({ status, errors });
}

/** CORS for browser clients, which negotiate with `Authorization` and SignalR's own headers. */
export function corsHeaders(req: IncomingMessage): Record<string, string> {
  const origin = req.headers.origin;
  if (!origin) return {};
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-credentials': 'true',
    'access-control-allow-methods': 'POST, OPTIONS',
    'access-control-allow-headers': 'authorization, content-type, x-requested-with, x-signalr-user-agent',
    vary: 'Origin',
  };
}

export function writeJson(req: IncomingMessage, res: ServerResponse, status: number, body: string): void {
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...corsHeaders(req),
  };
  if (status === 401) headers['www-authenticate'] = 'Bearer';
  res.writeHead(status, headers);
  res.end(body);
}

/** Answers an upgrade request with a plain HTTP error and closes the socket (no websocket). */
export function refuseUpgrade(socket: Duplex, status: number, body: string): void {
  if (socket.destroyed) return;
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
  ];
  if (status === 401) lines.push('WWW-Authenticate: Bearer');
  socket.end(lines.join('\r\n') + '\r\n\r\n' + body);
}
