/**
 * The agent's user: FARAMESH_AGENT_UID (and FARAMESH_AGENT_GID), else the user apply was invoked for
 * through sudo (SUDO_UID, SUDO_GID), else apply's own. `--check-uid` compares it with the daemon's;
 * with the OS tier, a root launcher drops to it before the sandbox starts.
 */
const id = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);

export function agentUser(env: NodeJS.ProcessEnv = process.env): { uid: number; gid: number } {
  const own = { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
  const uid = id(env.FARAMESH_AGENT_UID) ?? id(env.SUDO_UID) ?? own.uid;
  const gid = id(env.FARAMESH_AGENT_GID) ?? (env.FARAMESH_AGENT_UID !== undefined ? uid : id(env.SUDO_GID)) ?? own.gid;
  return { uid, gid };
}

/** The user the sandbox switches to: set only when the launcher (root) would otherwise keep uid 0. */
export function separateAgentUser(): { uid: number; gid: number } | undefined {
  const user = agentUser();
  return process.getuid?.() === 0 && user.uid !== 0 ? user : undefined;
}
