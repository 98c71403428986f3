import { describe, expect, it } from '@jest/globals';
import { mcpServersFromEnv } from './mcp-server-config';
import { mcpToolName } from './mcp.tools';

describe('mcpServersFromEnv', () => {
  it('reads none when NEXUS_MCP_SERVERS is unset or blank', () => {
    expect(mcpServersFromEnv({})).toEqual([]);
    expect(mcpServersFromEnv({ NEXUS_MCP_SERVERS: '  ' })).toEqual([]);
  });

  it('reads stdio and http servers', () => {
    const servers = [
      { name: 'git', transport: 'stdio', command: 'npx', args: ['-y', 'mcp-git'], env: { TOKEN: 'x' } },
      { name: 'search', transport: 'http', url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer y' } },
    ];
    expect(mcpServersFromEnv({ NEXUS_MCP_SERVERS: JSON.stringify(servers) })).toEqual(servers);
  });

  it.each([
    ['not JSON', '[{', /not JSON/],
    ['an unknown transport', '[{"name":"a","transport":"ws","url":"ws://x"}]', /invalid/],
    ['a stdio server without a command', '[{"name":"a","transport":"stdio"}]', /0\.command/],
    ['a non-http url', '[{"name":"a","transport":"http","url":"file:///etc/passwd"}]', /0\.url/],
    ['a dotted name', '[{"name":"a.b","transport":"stdio","command":"x"}]', /0\.name/],
    ['a repeated name', '[{"name":"a","transport":"stdio","command":"x"},{"name":"a","transport":"stdio","command":"y"}]', /twice/],
  ])('throws on %s', (_, value, message) => {
    expect(() => mcpServersFromEnv({ NEXUS_MCP_SERVERS: value })).toThrow(message);
  });
});

describe('mcpToolName', () => {
  it('keeps names the model accepts and replaces the rest', () => {
    expect(mcpToolName('test', 'echo')).toBe('mcp__test__echo');
    expect(mcpToolName('test', 'files.read-v2')).toBe('mcp__test__files_read-v2');
    expect(mcpToolName('my.server', 'odd name!/é')).toBe('mcp__my_server__odd_name___');
  });

  it('cuts at 64 characters', () => {
    expect(mcpToolName('s', 'x'.repeat(100))).toHaveLength(64);
  });
});
