/**
 * `faramesh explain`: one decision, approval, agent, rule or run (a correlation id), or a hypothetical call walked through
 * the pipeline. `explain <action-id>` is `explain decision <action-id>`.
 */
import { makeOut } from '../../output.js';
import type { ExplainOptions } from './hypothetical.js';

export const EXPLAIN_KINDS = ['decision', 'approval', 'agent', 'rule', 'run'] as const;

export interface ExplainCommandOptions extends Omit<ExplainOptions, 'agent' | 'tool'> {
  agent?: string;
  tool?: string;
  wal?: string;
  key?: string;
  includeArchived?: boolean;
  archive?: string;
}

export async function explainCommand(what: string | undefined, id: string | undefined, o: ExplainCommandOptions): Promise<number> {
  const out = makeOut(o.noColor);
  const format = o.format ?? 'text';
  const kind = (EXPLAIN_KINDS as readonly string[]).includes(what ?? '') ? what : what === undefined ? undefined : 'decision';
  const subject = kind === what ? id : what;
  // `explain bogus 123`: two words, the first no kind explain knows.
  if (kind !== what && id !== undefined) {
    out.error(out.fail(`explain: '${what}' is not one of ${EXPLAIN_KINDS.join(', ')} (or give an action id alone)`));
    return 64;
  }
  if (kind !== undefined && subject === undefined) {
    out.error(
      out.fail(`explain ${kind} needs exactly one ${kind === 'decision' ? 'action id' : kind === 'run' ? 'correlation id' : `${kind} id`}`),
    );
    return 64;
  }
  // `explain decision ID --tool x`: the flags of a hypothetical call would be ignored, and the
  // answer taken for one about the call they describe.
  const hypothetical = HYPOTHETICAL_FLAGS.filter(([, set]) => set(o)).map(([flag]) => flag);
  if (kind !== undefined && hypothetical.length > 0) {
    out.error(out.fail(`explain ${kind}: ${hypothetical.join(', ')} describe a hypothetical call; give them without a kind or id`));
    return 64;
  }
  switch (kind) {
    case 'decision': {
      const { explainRecord } = await import('./decision.js');
      return explainRecord(subject!, {
        stack: o.dir,
        ...(o.wal ? { dir: o.wal } : {}),
        ...(o.key ? { key: o.key } : {}),
        ...archived(o),
        format,
        ...flags(o),
      });
    }
    case 'approval': {
      const { explainApproval } = await import('./approval.js');
      return explainApproval(subject!, { dir: o.dir, format, ...flags(o) });
    }
    case 'agent': {
      const { explainAgent } = await import('./agent.js');
      return explainAgent(subject!, { dir: o.dir, format, ...flags(o) });
    }
    case 'run': {
      const { explainRun } = await import('./run.js');
      return explainRun(subject!, { stack: o.dir, ...(o.wal ? { dir: o.wal } : {}), ...archived(o), format, ...flags(o) });
    }
    case 'rule': {
      const { explainRule } = await import('./rule.js');
      return explainRule(subject!, { dir: o.dir, format, ...flags(o) });
    }
  }
  if (!o.agent || !o.tool) {
    out.error(out.fail(`explain needs ${EXPLAIN_KINDS.join('|')} and an id, an action id, or --agent and --tool for a hypothetical call`));
    return 64;
  }
  const { explain } = await import('./hypothetical.js');
  return explain({ ...o, agent: o.agent, tool: o.tool });
}

const flags = (o: { noColor?: boolean }) => (o.noColor ? { noColor: true } : {});
/** The options that describe a hypothetical call, and whether each was given (`--args` defaults to `{}`). */
const HYPOTHETICAL_FLAGS: [string, (o: ExplainCommandOptions) => boolean][] = [
  ['--agent', (o) => o.agent !== undefined],
  ['--tool', (o) => o.tool !== undefined],
  ['--args', (o) => o.args !== undefined && o.args !== '{}'],
  ['--principal', (o) => o.principal !== undefined],
  ['--model', (o) => o.model !== undefined],
  ['--session', (o) => o.session !== undefined],
  ['--tags', (o) => o.tags !== undefined],
  ['--now', (o) => o.now !== undefined],
  ['--unapplied', (o) => o.unapplied === true],
];
/** `--include-archived [--archive DIR]`, for the commands that read records. */
const archived = (o: { includeArchived?: boolean; archive?: string }) =>
  o.includeArchived ? { includeArchived: true, ...(o.archive !== undefined ? { archive: o.archive } : {}) } : {};
