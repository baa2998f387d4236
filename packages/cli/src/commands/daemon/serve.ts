import { serve } from '@faramesh/daemon';

/** `faramesh serve`: the daemon in the foreground (apply starts it this way, in the background). */
export function serveCmd(o: { dir: string }): Promise<number> {
  return serve(o.dir);
}
