/**
 * The `session_id` an MCP session's calls are decided under: `mcp-` and the session's random UUID,
 * the daemon's own, never used again once the session ends. Kept apart from session.ts so the daemon
 * can tell such ids without loading the MCP SDK.
 */
export const mcpSessionId = (key: string): string => `mcp-${key}`;

/** Whether a `session_id` is one of an MCP session's (as `mcpSessionId` makes them). */
export const isMcpSessionId = (id: string): boolean => /^mcp-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id);
