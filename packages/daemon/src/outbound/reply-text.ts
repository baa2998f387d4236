/** Reading a reply from a service outside the daemon without letting it grow the daemon's memory. */

/** The most of a reply that is read by default (elastic's to 500 creates is well under it); the rest is not fetched. */
export const MAX_REPLY = 4 << 20;

/** A reply's text, up to `max` bytes; `cut` when there was more. */
export async function replyText(res: Response, max = MAX_REPLY): Promise<{ text: string; cut: boolean }> {
  if (!res.body) return { text: '', cut: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: Buffer.concat(chunks).toString('utf8'), cut: false };
    chunks.push(value);
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return { text: Buffer.concat(chunks).subarray(0, max).toString('utf8'), cut: true };
    }
  }
}
