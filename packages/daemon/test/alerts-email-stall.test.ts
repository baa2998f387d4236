/**
 * An email:// alert to a mail server that accepts the connection and then says nothing more. Alerts
 * are notices, each attempt bounded (docs/daemon.md), and the queue of 1000 is shared by every
 * target: nodemailer's own limits (10 minutes of silence) held each stalled mail for its whole
 * socket timeout, so a stalled mail server crowded out the alerts to every other target.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SMTPServer } from 'smtp-server';
import { emailTarget } from '../src/outbound/email.js';
import type { AlertEvent } from '../src/outbound/alerts.js';

const ALERT: AlertEvent = {
  on: 'deny',
  notify: 'email://ops@example.com',
  agent_id: 'bot',
  tool: 'payout',
  effect: 'deny',
  action_id: 'action-1',
  time: new Date(0).toISOString(),
  policy_version: 'v1',
};

test('a mail server that stalls mid-conversation fails the attempt within its bound, never holds it', { timeout: 20_000 }, async () => {
  let stalled = 0;
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    // Never answers MAIL FROM: the connection stays open and silent.
    onMailFrom: () => void stalled++,
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  const port = (smtp.server.address() as { port: number }).port;
  try {
    const target = emailTarget(
      'email://ops@example.com',
      'ops@example.com',
      { FARAMESH_SMTP_URL: `smtp://127.0.0.1:${port}` },
      () => 'x',
      1000,
    );
    const started = Date.now();
    const error = await target.deliver(ALERT);
    assert.equal(stalled, 1);
    assert.match(String(error), /^SMTP: /);
    assert.ok(Date.now() - started < 5000, `held for ${Date.now() - started} ms`);
  } finally {
    await new Promise<void>((r) => smtp.close(() => r()));
  }
});
