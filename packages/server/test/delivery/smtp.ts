// A real SMTP server on loopback (smtp-server) that keeps every message it receives, for e-mail tests.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  at: number;
  to: string[];
  raw: string;
  /** This message was held (`stall`) before it was accepted. */
  stalled?: boolean;
}

export interface TestSmtp {
  url: string;
  mails: ReceivedMail[];
  /** Messages refused (451 try again later, or `refuseCode`) and not kept: the first `refuseFirst`. */
  refused: number;
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

export async function startTestSmtp(
  options: {
    refuseFirst?: number;
    refuseCode?: number;
    /** Holds the reply to the `message`-th message received (counting refused ones, from 1) for `ms`. */
    stall?: { message: number; ms: number };
  } = {},
): Promise<TestSmtp> {
  const mails: ReceivedMail[] = [];
  let refused = 0;
  let received = 0;
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received++;
        if (options.stall !== undefined && received === options.stall.message) {
          const raw = Buffer.concat(chunks).toString('utf8');
          setTimeout(() => {
            mails.push({
              at: Date.now(),
              to: session.envelope.rcptTo.map((r) => r.address),
              raw,
              stalled: true,
            });
            for (const wake of waiters) wake();
            callback();
          }, options.stall.ms);
          return;
        }
        if (refused < (options.refuseFirst ?? 0)) {
          refused++;
          const code = options.refuseCode ?? 451;
          const text = code >= 500 ? 'Mailbox unavailable' : 'Try again later';
          callback(Object.assign(new Error(text), { responseCode: code }));
          return;
        }
        mails.push({
          at: Date.now(),
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        for (const wake of waiters) wake();
        callback();
      });
    },
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    get refused() {
      return refused;
    },
    waitFor(count, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (mails.length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(mails);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} e-mails, got ${mails.length} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The decoded text of a simple nodemailer message (quoted-printable soft breaks undone). */
export function mailText(raw: string): string {
  const joined = raw.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined[i] === '=' ? /^[0-9A-F]{2}/.exec(joined.slice(i + 1, i + 3)) : null;
    if (hex) {
      bytes.push(parseInt(hex[0], 16));
      i += 2;
    } else bytes.push(...Buffer.from(joined[i] ?? '', 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}
