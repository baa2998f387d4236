import { serve } from '@faramesh/daemon';

/** `faramesh serve`: the daemon in the foreground (apply starts it this way, in the background). */
export async function serveCmd(o: { dir: string }): Promise<number> {
  const code = await serve(o.dir);
  // HALT ends the process now: a step abandoned when the cold-start window closed (a KMS request
  // still waiting on its own timeout) must not keep a halted daemon's process alive.
  if (code === 3) process.exit(3);
  // A stopped daemon ends now too: its log is closed and its sinks have had their turn, and a request
  // to a provider that stalled (a KMS or a credential provider past its timeout, its socket still
  // open) must not keep the process alive past `apply --stop`'s wait.
  if (code === 0) process.exit(0);
  return code;
}
