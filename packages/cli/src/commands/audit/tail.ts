/**
 * faramesh audit tail [--agent] [--effect] [--tool] [--limit N] [--format text|json] [--no-follow]:
 * the last records, then new ones as the daemon writes them — read from the files, so the daemon
 * need not answer. Stops on SIGINT/SIGTERM.
 */
import { LogFollower, type StoredRecord } from '@faramesh/audit';
import { makeOut } from '../../output.js';
import { recordLine } from './render.js';
import { walDir, type AuditPathOptions } from './paths.js';

export interface TailOptions extends AuditPathOptions {
  agent?: string;
  effect?: 'permit' | 'defer' | 'deny';
  tool?: string;
  limit: string;
  format: 'text' | 'json';
  follow: boolean;
  /** Poll interval in ms (tests shorten it). */
  interval?: number;
  noColor?: boolean;
}

export async function tailCmd(o: TailOptions): Promise<number> {
  const out = makeOut(o.noColor);
  const limit = Number(o.limit);
  if (!Number.isSafeInteger(limit) || limit < 0) {
    out.error(out.fail(`--limit: '${o.limit}' is not a count`));
    return 64;
  }
  const keep = (r: StoredRecord) =>
    (o.agent === undefined || r.record.agent_id === o.agent) &&
    (o.tool === undefined || r.record.tool === o.tool) &&
    (o.effect === undefined || (r.record.type === 'decision' && r.record.effect === o.effect));
  const print = (r: StoredRecord) => out.print(o.format === 'json' ? r.payload.toString('utf8') : recordLine(r.record, out.color));
  const follower = new LogFollower(walDir(o));
  try {
    const matched = follower.poll().filter(keep);
    for (const r of matched.slice(Math.max(0, matched.length - limit))) print(r);
  } catch (e) {
    out.error(out.fail((e as Error).message));
    return 1;
  }
  if (!o.follow) return 0;
  return new Promise<number>((resolve) => {
    const stop = (code: number) => {
      clearInterval(timer);
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      resolve(code);
    };
    const onSignal = () => stop(0);
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
    const timer = setInterval(() => {
      try {
        for (const r of follower.poll()) if (keep(r)) print(r);
      } catch (e) {
        out.error(out.fail((e as Error).message));
        stop(1);
      }
    }, o.interval ?? 250);
  });
}
