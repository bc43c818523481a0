// Sends notification e-mails through nodemailer over the configured SMTP URL.

import { type SendMailOptions, createTransport } from 'nodemailer';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
  /** Closes the transport; a send still under way fails at once (its e-mail stays owed in the store). */
  close(): void;
}

/**
 * `timeoutMs` bounds connecting, the greeting and socket inactivity (nodemailer's defaults are minutes):
 * the notifier passes less than its window, so a stalled send ends before another process may take the
 * next window and send the same failures again.
 */
export function createMailer(smtpUrl: string, from: string, timeoutMs = 30_000): Mailer {
  const transport = createTransport({
    url: smtpUrl,
    // Credentials over smtp:// go only after STARTTLS: a server (or someone in the path who strips the
    // STARTTLS offer) must not get them in clear text. smtps:// is TLS from the start anyway.
    ...(hasCredentials(smtpUrl) ? { requireTLS: true } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  // Why an abort: a server that stalls (no greeting, no reply) would hold a stopping process for the
  // whole time-out; closing the transport does not end a send under way.
  const aborter = new AbortController();
  return {
    async send(mail) {
      // nodemailer takes `signal` (the typings lag behind).
      const message: SendMailOptions & { signal: AbortSignal } = {
        from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        signal: aborter.signal,
      };
      await transport.sendMail(message);
    },
    close: () => {
      aborter.abort(new Error('the mailer was closed'));
      transport.close();
    },
  };
}

function hasCredentials(smtpUrl: string): boolean {
  try {
    const url = new URL(smtpUrl);
    return url.username !== '' || url.password !== '';
  } catch {
    return false;
  }
}
