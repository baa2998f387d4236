/**
 * The `elastic-sink`: `_bulk` of `create` actions, the record id as `_id` (a resend of a record that
 * landed is a 409, which counts as landed).
 *
 * An index maps each field by the first value it sees. The arguments are the agent's to choose: a
 * tool's `id` that is a number, then another's that is a string, or an `args.query` that is text
 * once and an object next, and the index refuses the later record (400) as it stands. Resent as it
 * stands, it is refused again forever, and every record after it waits behind it: an agent could
 * stop the stream. A record refused so is sent again with `args` and `principal_claims` as JSON
 * text (`args_text`, `principal_claims_text`), which any index takes; only a refusal of that is an
 * error.
 */
import type { SinkEvent } from './sink-formats.js';
import { post } from './deliver.js';

interface BulkReply {
  errors?: boolean;
  items?: { create?: { status?: number; error?: { type?: string; reason?: string } } }[];
}

/** The positions of the records the index refused as they stand (400), or the error that is not that. */
function outcome(body: string, events: readonly SinkEvent[]): { error?: string; refused: number[] } {
  const reply = JSON.parse(body) as BulkReply;
  const refused: number[] = [];
  if (!reply.errors) return { refused };
  const items = reply.items ?? [];
  if (items.length !== events.length) return { error: `bulk reply holds ${items.length} items for ${events.length} records`, refused };
  for (const [i, item] of items.entries()) {
    const status = item.create?.status;
    if (status === undefined || status < 300 || status === 409) continue;
    if (status === 400) {
      refused.push(i);
      continue;
    }
    return { error: `bulk item refused (${status}): ${item.create!.error?.reason ?? 'no reason given'}`, refused };
  }
  return { refused };
}

/** A record with what the agent shaped (its arguments, a principal's claims) as JSON text. */
function asText(e: SinkEvent): SinkEvent {
  const { args, principal_claims, ...rest } = e;
  return {
    ...rest,
    ...(args !== undefined ? { args_text: JSON.stringify(args) } : {}),
    ...(principal_claims !== undefined ? { principal_claims_text: JSON.stringify(principal_claims) } : {}),
  };
}

export function elasticShipper(
  url: string,
  headers: Record<string, string>,
  index: string,
): (events: SinkEvent[]) => Promise<string | undefined> {
  const body = (events: readonly SinkEvent[]) =>
    events
      .map((e) => `${JSON.stringify({ create: { _index: index, _id: String(e.id) } })}\n${JSON.stringify({ '@timestamp': e.time, ...e })}`)
      .join('\n') + '\n';
  return async (events) => {
    let refused: number[] = [];
    const error = await post(url, headers, body(events), (_status, text) => {
      const o = outcome(text, events);
      refused = o.refused;
      return o.error;
    });
    if (error || refused.length === 0) return error;
    const again = refused.map((i) => asText(events[i]!));
    return post(url, headers, body(again), (_status, text) => {
      const o = outcome(text, again);
      const first = o.refused[0];
      return (
        o.error ??
        (first === undefined ? undefined : `bulk item refused (400) even with its arguments as text: record ${String(again[first]!.id)}`)
      );
    });
  };
}
