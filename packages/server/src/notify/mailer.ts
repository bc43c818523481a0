// Sends notification e-mails through nodemailer over the configured SMTP URL.

import { createTransport } from 'nodemailer';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
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
  return {
    async send(mail) {
      await transport.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text });
    },
    close: () => transport.close(),
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
