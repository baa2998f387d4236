/**
 * `alert { on = "deny" notify = "…" }`: once a decision is durable, the alerts it fired are sent,
 * off the decision path, with a few retries. Alerts are notices; the log is the record, so an
 * alert that cannot be delivered is counted and written to the daemon log, never allowed to hold
 * a call up.
 *
 * Targets: `webhook://host/path` (POST JSON over https), `slack://#channel` (through the incoming
 * webhook in FARAMESH_SLACK_WEBHOOK_URL) or `slack://hooks.slack.com/services/…`,
 * `pagerduty://<routing key>` (Events API v2; FARAMESH_PAGERDUTY_URL overrides the endpoint),
 * `email://<address>[,<address>…]` (SMTP through FARAMESH_SMTP_URL, from FARAMESH_SMTP_FROM).
 * Apply warns about every target it cannot reach; those alerts are counted as failed, and the
 * decisions stand.
 */
import { hostname } from 'node:os';
import type { PolicyIR } from '@faramesh/fpl/runtime';
import { post } from './deliver.js';
import { emailTarget } from './email.js';

/** Every notify target a policy names: its agents' alert blocks and its rules' `notify` clauses. */
export function notifyTargets(ir: PolicyIR): Set<string> {
  const out = new Set<string>();
  for (const a of ir.agents) {
    for (const alert of a.alerts) out.add(alert.notify);
    for (const r of [...a.rules, ...a.phases.flatMap((p) => p.rules)]) if (r.notify !== undefined) out.add(r.notify);
  }
  for (const r of ir.rules) if (r.notify !== undefined) out.add(r.notify);
  return out;
}

/** The recorded decision an alert is about. */
export interface AlertSubject {
  agent_id: string;
  tool: string;
  effect: string;
  code?: string;
  message?: string;
  rule_ref?: string;
  action_id: string;
  /** A deferral's approval: the id `faramesh approvals approve` takes. */
  approval_id?: string;
  time: string;
  policy_version: string;
}

export interface AlertEvent extends AlertSubject {
  on: string;
  notify: string;
}

/** Attempts per alert, and the wait before each retry. */
const RETRIES_MS = [1000, 5000];
/** Alerts waiting or in flight; past this, new ones are dropped (and counted). */
const MAX_QUEUED = 1000;

export interface AlertTarget {
  /** Deliver one alert; the reason it failed, or undefined. */
  deliver(a: AlertEvent): Promise<string | undefined>;
}

const json = (url: string, body: (a: AlertEvent) => unknown): AlertTarget => ({
  deliver: (a) => post(url, { 'content-type': 'application/json' }, JSON.stringify(body(a))),
});

/** Where a `notify` goes; throws with the reason when it cannot be delivered. */
export function alertTarget(notify: string, env: NodeJS.ProcessEnv): AlertTarget {
  const m = /^([a-z]+):\/\/(.+)$/.exec(notify);
  if (!m) throw new Error(`notify '${notify}' is not scheme://target`);
  const [, scheme, rest] = m as unknown as [string, string, string];
  const summary = (a: AlertEvent) =>
    `faramesh ${a.on}: ${a.agent_id} ${a.tool} → ${a.effect.toUpperCase()}${a.code ? ` (${a.code})` : ''}${a.message ? `: ${a.message}` : ''}${a.approval_id ? ` (approval ${a.approval_id})` : ''}`;
  switch (scheme) {
    case 'webhook':
      return json(`https://${rest}`, (a) => ({ source: 'faramesh', alert: a }));
    case 'slack': {
      // Slack reads `<…>` in text as mentions and links (`<!channel>`, `<https://…|label>`), and the
      // agent names its tools: its words are escaped, as Slack asks, so they stay words.
      const text = (a: AlertEvent) => slackEscape(summary(a));
      if (!rest.startsWith('#')) return json(`https://${rest}`, (a) => ({ text: text(a) }));
      const hook = env.FARAMESH_SLACK_WEBHOOK_URL;
      if (!hook)
        throw new Error(`notify '${notify}' needs FARAMESH_SLACK_WEBHOOK_URL (a Slack incoming webhook) in the daemon's environment`);
      return json(hook, (a) => ({ channel: rest, text: text(a) }));
    }
    case 'pagerduty':
      return json(env.FARAMESH_PAGERDUTY_URL ?? 'https://events.pagerduty.com/v2/enqueue', (a) => ({
        routing_key: rest,
        event_action: 'trigger',
        dedup_key: a.action_id,
        payload: {
          summary: summary(a),
          source: hostname(),
          severity: a.effect === 'deny' ? 'error' : 'warning',
          timestamp: a.time,
          component: a.agent_id,
          // Without `notify`: it holds the routing key, which the incident would show to everyone who sees it.
          custom_details: { ...a, notify: 'pagerduty' },
        },
      }));
    case 'email':
      return emailTarget(notify, rest, env, summary);
    default:
      throw new Error(`notify '${shownTarget(notify)}': unknown scheme ${scheme}`);
  }
}

/**
 * A notify target as the daemon log may show it: a PagerDuty routing key, a Slack webhook's path and
 * a webhook's path or query are credentials (whoever holds one can page, post or call), so only what
 * names the target without granting it is kept.
 */
export function shownTarget(notify: string): string {
  const m = /^([a-z]+):\/\/(.+)$/.exec(notify);
  if (!m) return '(not scheme://target)';
  const [, scheme, rest] = m as unknown as [string, string, string];
  switch (scheme) {
    case 'email':
      return notify;
    case 'slack':
      if (rest.startsWith('#')) return notify;
      break;
    case 'pagerduty':
      return `pagerduty://…${rest.length > 8 ? rest.slice(-4) : ''}`;
  }
  const host = /^[^/?#]*/.exec(rest)![0].replace(/^.*@/, '');
  return `${scheme}://${host}${host.length < rest.length ? '/…' : ''}`;
}

/** Slack's control characters in message text, escaped (api.slack.com: formatting, escaping text). */
const slackEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export class Alerts {
  readonly counts = { sent: 0, failed: 0, dropped: 0 };
  private queued = 0;
  /** `counts.dropped` when the last drop was said: the next drop after an alert is queued is said again. */
  private droppedSaid = 0;
  private readonly targets = new Map<string, AlertTarget>();

  /** `dryRun` (faramesh dev): each alert is said, never sent. */
  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly say: (line: string) => void,
    private readonly dryRun = false,
  ) {}

  /** Why each undeliverable notify target of a policy cannot be reached (apply and start warn; alerts never block). */
  static problems(notifies: Iterable<string>, env: NodeJS.ProcessEnv): string[] {
    const out: string[] = [];
    for (const n of notifies) {
      try {
        alertTarget(n, env);
      } catch (e) {
        out.push((e as Error).message);
      }
    }
    return out;
  }

  /** The alerts a durable decision fired. */
  fire(fired: readonly { on: string; notify: string }[], subject: AlertSubject): void {
    for (const { on, notify } of fired) this.send({ on, notify, ...subject });
  }

  send(a: AlertEvent): void {
    if (this.dryRun) {
      this.say(`alert ${a.on} → ${shownTarget(a.notify)} (faramesh dev: not sent): ${a.agent_id} ${a.tool} ${a.effect}`);
      return;
    }
    if (this.queued >= MAX_QUEUED) {
      // Said once a spell, not once an alert: a flood of them must not flood the log too.
      if (this.counts.dropped++ === this.droppedSaid)
        this.say(
          `alert ${a.on} for ${a.action_id} dropped: ${MAX_QUEUED} alerts are waiting or in flight (a slow or hanging target); alerts are dropped until some are delivered (alerts.dropped in status counts them)`,
        );
      return;
    }
    this.droppedSaid = this.counts.dropped;
    let target = this.targets.get(a.notify);
    if (!target) {
      try {
        target = alertTarget(a.notify, this.env);
      } catch (e) {
        this.counts.failed++;
        this.say(`alert ${a.on} → ${shownTarget(a.notify)} not sent: ${(e as Error).message}`);
        return;
      }
      this.targets.set(a.notify, target);
    }
    this.queued++;
    void this.attempt(target, a, 0).finally(() => this.queued--);
  }

  private async attempt(target: AlertTarget, a: AlertEvent, n: number): Promise<void> {
    const error = await target.deliver(a);
    if (!error) {
      this.counts.sent++;
      return;
    }
    const wait = RETRIES_MS[n];
    if (wait === undefined) {
      this.counts.failed++;
      this.say(`alert ${a.on} → ${shownTarget(a.notify)} for ${a.action_id} not delivered: ${error}`);
      return;
    }
    await new Promise((r) => setTimeout(r, wait).unref());
    return this.attempt(target, a, n + 1);
  }
}
