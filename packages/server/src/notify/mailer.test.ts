// The mailer against a real SMTP server that offers AUTH but no STARTTLS: with credentials in an
// smtp:// URL nothing is sent rather than the password in clear text.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailer } from './mailer.js';

let server: SMTPServer | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function plainServer(seen: { auth: number; mails: number }): Promise<number> {
  server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: true,
    logger: false,
    onAuth(_auth, _session, callback) {
      seen.auth++;
      callback(null, { user: 'u' });
    },
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => {
        seen.mails++;
        callback();
      });
    },
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  return (server.server.address() as AddressInfo).port;
}

describe('createMailer', () => {
  it('never sends credentials over smtp:// without STARTTLS', async () => {
    const seen = { auth: 0, mails: 0 };
    const port = await plainServer(seen);
    const mailer = createMailer(`smtp://user:secret@127.0.0.1:${port}`, 'h@example.com', 5_000);
    await expect(mailer.send({ to: 'a@example.com', subject: 's', text: 't' })).rejects.toThrow(/STARTTLS/i);
    mailer.close();
    expect(seen).toEqual({ auth: 0, mails: 0 });
  });

  it('still sends without credentials to a server without STARTTLS (a local relay)', async () => {
    const seen = { auth: 0, mails: 0 };
    const port = await plainServer(seen);
    const mailer = createMailer(`smtp://127.0.0.1:${port}`, 'h@example.com', 5_000);
    await mailer.send({ to: 'a@example.com', subject: 's', text: 't' });
    mailer.close();
    expect(seen).toEqual({ auth: 0, mails: 1 });
  });
});
