/**
 * Where a phase stands, as the running daemon reports it (`status`): the rule stage tries an active
 * phase's rules first; an ended, upcoming or unreached phase's rules decide nothing now.
 */
export interface PhaseInfo {
  agent: string;
  name: string;
  state: 'active' | 'ended' | 'upcoming' | 'unreached';
  /** Its `next`, as declared: a phase's name, or any other word (`enforce`), which ends the chain. */
  next?: string;
  starts_at?: string;
  ends_at?: string;
}

/** `active until … (then enforce)`, `ended at …`, …: one line an operator can read. */
export function phaseLine(p: PhaseInfo): string {
  const then = p.next !== undefined ? `, then ${p.next}` : '';
  switch (p.state) {
    case 'active':
      return p.ends_at ? `active until ${p.ends_at}${then}` : `active since ${p.starts_at ?? '—'} (no duration: it does not end)`;
    case 'ended':
      return `ended at ${p.ends_at ?? '—'}${then}`;
    case 'upcoming':
      return `upcoming: starts at ${p.starts_at ?? '—'}${p.ends_at ? `, ends at ${p.ends_at}` : ''}`;
    default:
      return 'never runs: no chain of `next` from the first phase leads to it';
  }
}
