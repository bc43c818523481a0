// The single error mapping: catalogue errors keep their status and items, Fastify's request errors
// get their catalogue entry, and anything else is logged and answered as a bare 500.

import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { HooksterError } from '../domain/errors.js';
import { toErrorResponse } from './errors.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('toErrorResponse', () => {
  it('keeps a HooksterError as it is', () => {
    const { logger, lines } = capture();
    const response = toErrorResponse(HooksterError.of('HubNotFound'), logger);
    expect(response).toEqual({
      status: 404,
      errors: [{ code: 699, description: 'Hub not found. (code: PRT000699)' }],
    });
    expect(lines).toHaveLength(0);
  });

  it('maps Fastify body errors to 400, 413 and 415', () => {
    const { logger } = capture();
    const of = (code: string, statusCode: number) => Object.assign(new Error(code), { code, statusCode });
    expect(toErrorResponse(of('FST_ERR_CTP_INVALID_JSON_BODY', 400), logger).errors[0]?.code).toBe(309);
    expect(toErrorResponse(of('FST_ERR_CTP_BODY_TOO_LARGE', 413), logger).status).toBe(413);
    expect(toErrorResponse(of('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415), logger).status).toBe(415);
    expect(toErrorResponse(new SyntaxError('Unexpected token'), logger).errors[0]?.code).toBe(309);
  });

  it('logs an unknown error with its cause and answers a bare 500 without internals', () => {
    const { logger, lines } = capture();
    const response = toErrorResponse(new Error('SQLITE_CORRUPT: secret detail at /var/lib/db'), logger);
    expect(response.status).toBe(500);
    expect(response.errors).toEqual([
      { code: 100, description: 'An unexpected error occurred. (code: PRT000100)' },
    ]);
    expect(JSON.stringify(response)).not.toContain('SQLITE');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('SQLITE_CORRUPT');
  });
});
