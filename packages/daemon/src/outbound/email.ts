/**
 * `email://ops@example.com[,oncall@example.com]`: an alert as a plain-text mail over SMTP. The server
 * is FARAMESH_SMTP_URL (`smtp://user:pass@host:587` upgrades with STARTTLS when offered;
 * `smtps://…:465` is TLS from the start), the sender FARAMESH_SMTP_FROM (default faramesh@<host>).
 */
import { hostname } from 'node:os';
import type { Transporter } from 'nodemailer';
import type { AlertEvent, AlertTarget } from './alerts.js';
import { deadline } from './deadline.js';

const ADDRESS = /^[^\s@,]+@[^\s@,]+$/;
/**
 * How long one mail may take, all told. nodemailer waits up to 2 minutes to connect and 10 minutes
 * for a silent server, so a mail server that accepts and then stalls held each alert (and its
 * retries) for half an hour, filling the queue that alerts to every other target share.
 */
const SEND_TIMEOUT_MS = 30_000;

function smtpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'smtp:' || u.protocol === 'smtps:') && u.hostname !== '';
  } catch {
    return false;
  }
}

export function emailTarget(
  notify: string,
  rest: string,
  env: NodeJS.ProcessEnv,
  summary: (a: AlertEvent) => string,
  timeoutMs = SEND_TIMEOUT_MS,
): AlertTarget {
  const to = rest.split(',').map((x) => decodeURIComponent(x.trim()));
  const bad = to.filter((x) => !ADDRESS.test(x));
  if (to.length === 0 || bad.length > 0) throw new Error(`notify '${notify}': ${bad.join(', ') || 'no address'} is not an email address`);
  const url = env.FARAMESH_SMTP_URL;
  if (!url) throw new Error(`notify '${notify}' needs FARAMESH_SMTP_URL (smtp://user:pass@host:port) in the daemon's environment`);
  // Checked now, so apply can say so: nodemailer itself only loads with the first alert.
  if (!smtpUrl(url))
    throw new Error(`notify '${notify}': FARAMESH_SMTP_URL is not an smtp:// or smtps:// URL with a host (smtp://user:pass@host:port)`);
  let transport: Promise<Transporter> | undefined;
  const smtp = () =>
    (transport ??= import('./smtp.js')
      .then((m) => m.createTransport({ url, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs }))
      .catch((e: Error) => {
        transport = undefined; // the next alert tries again
        throw e;
      }));
  const from = env.FARAMESH_SMTP_FROM ?? `faramesh@${hostname()}`;
  return {
    async deliver(a) {
      try {
        const mail = (await smtp()).sendMail({
          from,
          to,
          subject: summary(a),
          text: [
            summary(a),
            '',
            ...Object.entries(a)
              .filter(([, v]) => v !== undefined)
              .map(([k, v]) => `${k}: ${String(v)}`),
          ].join('\n'),
          headers: { 'X-Faramesh-Action-Id': a.action_id },
        });
        // The socket timeout is for silence alone: a server that dribbles is cut off here.
        await deadline(mail, timeoutMs, 'the mail server');
        return undefined;
      } catch (e) {
        return `SMTP: ${(e as Error).message}`;
      }
    },
  };
}
