/** How records read in a terminal: one line for `tail`, a block for `show`. */
import pc from 'picocolors';
import { inline, printable } from '../../output.js';

type Rec = Record<string, unknown>;

// A Map: the effect is read from the log, and `toString` or `__proto__` must not find a member.
const EFFECT_COLOUR = new Map<unknown, (s: string) => string>([
  ['permit', pc.green],
  ['defer', pc.yellow],
  ['deny', pc.red],
]);

/** Marks a deny or defer recorded under `mode = "audit"`: the agent was told PERMIT and the call ran. */
export const NOT_ENFORCED = '(audit mode: not enforced, the call ran)';

/** Whether a decision record's deny or defer was let through by `runtime { mode = "audit" }`. */
export const notEnforced = (r: Rec): boolean => r.mode === 'audit' && r.effect !== 'permit';

/** `[time] action-<id>  agent  tool  EFFECT  code`; events show their type and gist. */
export function recordLine(r: Rec, color: boolean): string {
  const time = `[${inline(r.time)}]`;
  if (r.type === 'decision') {
    const effect = inline(r.effect).toUpperCase().padEnd(6);
    const painted = color ? (EFFECT_COLOUR.get(r.effect) ?? String)(effect) : effect;
    const why = (r.denial as { human_message?: string } | undefined)?.human_message ?? r.code ?? '';
    // Under `mode = "audit"` the agent was told PERMIT: a deny or defer read here must not pass for a block.
    const ran = notEnforced(r) ? `${NOT_ENFORCED}  ` : '';
    return `${time} action-${inline(r.id)}  ${inline(r.agent_id)}  ${inline(r.tool)}  ${painted}  ${ran}${inline(why)}`.trimEnd();
  }
  return `${time} ${inline(r.type)}  ${inline(eventGist(r))}`.trimEnd();
}

function eventGist(r: Rec): string {
  switch (r.type) {
    case 'policy_applied':
      return `policy_version ${String(r.policy_version).slice(0, 12)}`;
    case 'daemon_started':
      return `pid ${String(r.pid)} version ${String(r.version)}`;
    case 'daemon_stopped':
      return String(r.reason);
    case 'approval_resolved':
      return `${String(r.approval_id)} of action-${String(r.action_id).replace(/^action-/, '')} ${String(r.outcome)} by ${String(r.by)}`;
    case 'state_sealed':
      return `${String(r.file)} generation ${String(r.generation)}${r.body_sha256 === undefined ? ' (removed; started without it)' : ''}`;
    case 'checkpoint':
      return `tree size ${String(r.size)}`;
    case 'key_rotated':
      return `key ${String(r.key).split('+').slice(0, 2).join('+')}`;
    case 'mcp_task':
      return `agent ${String(r.agent_id)} task ${String(r.task_id)} of ${String(r.tool)}: ${String(r.status)}${r.code ? ` ${String(r.code)}` : ''}`;
    case 'mcp_traffic':
      return `agent ${String(r.agent_id)} ${String(r.from)}: ${String(r.server)} ${String(r.method)}${r.code ? ` ${String(r.code)}` : ''}`;
    default:
      return r.agent_id ? `agent ${String(r.agent_id)}` : '';
  }
}

/** Every field, one per line, nested values as compact JSON. */
export function recordBlock(r: Rec, extra: [string, string][] = []): string {
  const rows: [string, string][] = [
    ...Object.entries(r).map(([k, v]): [string, string] => [inline(k), printable(typeof v === 'string' ? v : JSON.stringify(v))]),
    ...extra,
  ];
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  return rows
    .map(([k, v]) => `  ${`${k}:`.padEnd(width)}${v.includes('\n') ? `\n    ${v.trimEnd().split('\n').join('\n    ')}` : v}`)
    .join('\n');
}
