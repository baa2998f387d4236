/** email:// alerts reach a real SMTP server (smtp-server from npm), off the decision path. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SMTPServer } from 'smtp-server';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, makeStack, until } from './daemon-helpers.js';

interface Mail {
  from: string;
  to: string[];
  data: string;
}

test('an alert on deny is mailed over SMTP to every address; a mail server that is down never holds up a decision', async () => {
  const mails: Mail[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, done) {
      let data = '';
      stream.on('data', (c: Buffer) => (data += c.toString()));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
        });
        done();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  const port = (smtp.server.address() as { port: number }).port;
  const s = makeStack(
    `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

agent "bot" {
  default deny
  rules {
    deny payout reason "platform team only"
  }
  alert {
    on     = "deny"
    notify = "email://ops@example.com,oncall@example.com"
  }
}
`,
    { FARAMESH_SMTP_URL: `smtp://127.0.0.1:${port}`, FARAMESH_SMTP_FROM: 'faramesh@stack.example' },
  );
  try {
    const applied = s.cli('apply');
    assert.equal(applied.code, 0, applied.stderr);
    assert.doesNotMatch(applied.stderr, /not deliverable/);
    const denied = await s.govern({ agent_id: 'bot', tool_id: 'payout', args: { amount: 1 } });
    assert.equal(denied.effect, 'DENY');
    await until('the mail', () => mails.length === 1);
    const mail = mails[0]!;
    assert.equal(mail.from, 'faramesh@stack.example');
    assert.deepEqual(mail.to.sort(), ['oncall@example.com', 'ops@example.com']);
    // The subject is MIME-encoded (it has an arrow); the body starts with the same line, quoted-printable.
    assert.match(mail.data, /^Subject: =\?UTF-8\?Q\?faramesh_deny=3A_bot_payout/m);
    assert.match(mail.data, /faramesh deny: bot payout =E2=86=92 DENY \(POLICY_DENY\): platform team only/);
    assert.match(mail.data, new RegExp(`^X-Faramesh-Action-ID: ${denied.action_id}`, 'im'));
    await new Promise<void>((r) => smtp.close(() => r()));
    const started = Date.now();
    assert.equal((await s.govern({ agent_id: 'bot', tool_id: 'payout', args: { amount: 2 } })).effect, 'DENY');
    assert.ok(Date.now() - started < 2000, 'the decision did not wait for the mail');
  } finally {
    s.stop();
    smtp.close();
  }
});

test('apply says when email alerts cannot be delivered: no SMTP URL, or one that is not smtp(s)://host (its secret never shown)', () => {
  const policy = `agent "bot" {
  default deny
  alert {
    on     = "deny"
    notify = "email://ops@example.com"
  }
}
`;
  for (const [env, why] of [
    [{}, /needs FARAMESH_SMTP_URL/],
    [{ FARAMESH_SMTP_URL: 'http://user:hunter2@mail.example:587' }, /not an smtp:\/\/ or smtps:\/\/ URL/],
    [{ FARAMESH_SMTP_URL: 'mail.example:587' }, /not an smtp:\/\/ or smtps:\/\/ URL/],
  ] as const) {
    const s = makeStack(policy, env);
    try {
      const applied = s.cli('apply');
      assert.equal(applied.code, 0, 'alerts never block apply');
      assert.match(applied.stderr, /alert not deliverable: notify 'email:\/\/ops@example.com'/);
      assert.match(applied.stderr, why);
      assert.doesNotMatch(applied.stderr, /hunter2/);
    } finally {
      s.stop();
    }
  }
});

test('apply to a running daemon warns of the alerts it cannot deliver with its own environment, not the shell’s', () => {
  const policy = (rule: string) => `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}
agent "bot" {
  default deny
  rules {
    ${rule}
  }
  alert {
    on     = "deny"
    notify = "slack://#sec"
  }
}
`;
  const s = makeStack(policy('deny payout'));
  const apply = (env: Record<string, string>) =>
    spawnSync(process.execPath, [BIN, 'apply', '--dir', s.dir], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', HOME: s.dir, ...env },
    });
  const warned = /alert not deliverable: notify 'slack:\/\/#sec' needs FARAMESH_SLACK_WEBHOOK_URL/;
  try {
    const started = apply({});
    assert.equal(started.status, 0, started.stderr);
    assert.match(started.stderr, warned);
    // The shell now has the webhook; the daemon, started without it, still has none.
    const hook = { FARAMESH_SLACK_WEBHOOK_URL: 'http://127.0.0.1:9/hook' };
    const same = apply(hook);
    assert.equal(same.status, 0, same.stderr);
    assert.match(same.stdout, /no changes/);
    assert.match(same.stderr, warned);
    writeFileSync(join(s.dir, 'governance.fms'), policy('deny payout\n    deny refund'));
    const swapped = apply(hook);
    assert.equal(swapped.status, 0, swapped.stderr);
    assert.match(swapped.stdout, /hot-swapped/);
    assert.match(swapped.stderr, warned);
  } finally {
    spawnSync(process.execPath, [BIN, 'apply', '--stop', '--dir', s.dir], { env: { ...process.env, HOME: s.dir } });
    s.stop();
  }
});
