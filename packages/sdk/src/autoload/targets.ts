/**
 * The modules FARAMESH_AUTOLOAD intercepts, and the exports it replaces in each (empty: the module
 * is patched on its classes' prototypes and re-exported as it is). Import-free, for the loader thread.
 */
export const TARGETS: Record<string, string[]> = {
  ai: ['generateText', 'streamText', 'experimental_streamTextLowMemory', 'ToolLoopAgent', 'Experimental_Agent'],
  '@openai/agents': ['tool'],
  '@openai/agents-core': ['tool'],
  '@mastra/core/tools': ['createTool'],
  '@mastra/core/agent': ['Agent'],
  '@langchain/core/tools': [],
  '@modelcontextprotocol/sdk/server/index.js': [],
  '@modelcontextprotocol/sdk/server/mcp.js': [],
};
