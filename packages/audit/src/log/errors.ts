/** Why a log refused to open: the segment, byte offset and (when known) the record. */
export class LogCorruptError extends Error {
  override name = 'LogCorruptError';
  constructor(
    readonly segment: string,
    readonly offset: number,
    readonly reason: string,
    readonly seq?: number,
  ) {
    super(`audit log damaged in ${segment} at byte ${offset}${seq !== undefined ? ` (record seq ${seq})` : ''}: ${reason}`);
  }
}
