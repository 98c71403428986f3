import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { ToolRegistry } from '../tool-registry';
import { runTool } from '../run-tool';
import { ToolError } from '../tool-definition';
import { createHttpRequestTool, type HttpRequestToolOptions } from './http-request.tool';
import type { HostResolver } from './guarded-lookup';

const context = { sessionId: 's1', tenantId: 't1', userId: 'u1', toolCallId: 'c1' };

/** Test DNS: names under `.test` map to fixed addresses; anything else is the system resolver. */
const resolved: string[] = [];
const fakeDns: Record<string, string[]> = {
  'intranet.test': ['10.1.2.3'],
  'metadata.test': ['169.254.169.254'],
  'mixed.test': ['93.184.216.34', '192.168.0.7'],
  'loopback.test': ['127.0.0.1'],
};
const resolve: HostResolver = async (hostname) => {
  resolved.push(hostname);
  const addresses = fakeDns[hostname];
  if (!addresses) return [{ address: '127.0.0.1', family: 4 }];
  return addresses.map((address) => ({ address, family: net.isIPv6(address) ? 6 : 4 }));
};

/** Every socket connect the process starts while a test runs (all tests only ever reach loopback). */
const connects: unknown[] = [];
const originalConnect = net.Socket.prototype.connect;

let server: http.Server;
let port: number;
let served: string[];

function registryWith(options: Partial<HttpRequestToolOptions> = {}): ToolRegistry {
  return new ToolRegistry().register(
    createHttpRequestTool({ allowedHosts: ['*'], allowedPrivateCidrs: [], resolve, ...options }),
  );
}

async function refusal(registry: ToolRegistry, url: string): Promise<ToolError> {
  const error = await runTool(registry, 'http_request', { url }, context).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ToolError);
  return error as ToolError;
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    served.push(req.url ?? '');
    const target = new URL(req.url ?? '/', 'http://x').searchParams.get('to');
    if (req.url?.startsWith('/redirect') && target) {
      res.writeHead(302, { location: target }).end();
    } else if (req.url === '/big') {
      res.end('x'.repeat(3000));
    } else {
      res.end(`hello ${req.method}`);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

beforeEach(() => {
  served = [];
  resolved.length = 0;
  connects.length = 0;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    connects.push(args);
    return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof originalConnect;
});

afterEach(() => {
  net.Socket.prototype.connect = originalConnect;
});

describe('http_request SSRF corpus', () => {
  const literals = [
    '127.0.0.1', '127.1', '2130706433', '0x7f000001', '017700000001', '0.0.0.0', '[::]', '[::1]',
    '[::ffff:127.0.0.1]', '169.254.169.254', '[fd00:ec2::254]', '10.0.0.1', '10.255.255.254',
    '172.16.0.1', '172.31.255.254', '192.168.1.1', '100.64.0.1', '100.127.255.254', '[fc00::1]',
    '[fd12:3456::1]', '[fe80::1]', '[::ffff:10.0.0.1]', '[::ffff:169.254.169.254]', '224.0.0.1',
    '255.255.255.255', '[64:ff9b::a00:1]',
  ];

  it.each(literals)('refuses %s before any socket exists', async (host) => {
    const error = await refusal(registryWith(), `http://${host}:${port}/`);
    expect(error.code).toBe('refused');
    expect(connects).toEqual([]);
    expect(served).toEqual([]);
  });

  it.each(['intranet.test', 'metadata.test', 'mixed.test', 'loopback.test'])(
    'refuses %s, a name resolving to a non-public address, in the lookup before connecting',
    async (host) => {
      const error = await refusal(registryWith(), `http://${host}:${port}/`);
      expect(error.code).toBe('refused');
      expect(resolved).toEqual([host]);
      expect(served).toEqual([]);
    },
  );

  it('refuses localhost through the system resolver', async () => {
    const registry = new ToolRegistry().register(createHttpRequestTool({ allowedHosts: ['*'], allowedPrivateCidrs: [] }));
    const error = await refusal(registry, `http://localhost:${port}/`);
    expect(error.code).toBe('refused');
    expect(error.message).toMatch(/loopback/);
    expect(served).toEqual([]);
  });

  it.each(['file:///etc/passwd', 'ftp://example.com/x', 'gopher://example.com/', 'data:text/plain,hi'])(
    'refuses the scheme of %s',
    async (url) => {
      const error = await refusal(registryWith(), url);
      expect(error.code).toBe('refused');
      expect(connects).toEqual([]);
    },
  );

  it('refuses hosts outside the allowlist', async () => {
    const registry = registryWith({ allowedHosts: ['*.example.com', 'api.test'] });
    expect((await refusal(registry, 'http://example.org/')).message).toMatch(/allowlist/);
    expect((await refusal(registry, 'http://evil-example.com/')).message).toMatch(/allowlist/);
    expect(connects).toEqual([]);
  });
});

describe('http_request to an allowed loopback server', () => {
  const allowLoopback = { allowedPrivateCidrs: ['127.0.0.1/32'] };

  it('gets and posts', async () => {
    const registry = registryWith(allowLoopback);
    const get = await runTool(registry, 'http_request', { url: `http://127.0.0.1:${port}/hi` }, context);
    expect(get.output).toMatchObject({ status: 200, body: 'hello GET', truncated: false });
    const post = await runTool(registry, 'http_request', { url: `http://loopback.test:${port}/`, method: 'POST', body: '{}' }, context);
    expect(post.output).toMatchObject({ status: 200, body: 'hello POST' });
  });

  it('truncates a response beyond the size limit', async () => {
    const registry = registryWith({ ...allowLoopback, maxResponseBytes: 1000 });
    const result = await runTool(registry, 'http_request', { url: `http://127.0.0.1:${port}/big` }, context);
    expect(result.output).toMatchObject({ truncated: true, body: 'x'.repeat(1000) });
  });

  it('follows a redirect that stays allowed', async () => {
    const to = encodeURIComponent(`http://127.0.0.1:${port}/landing`);
    const result = await runTool(registryWith(allowLoopback), 'http_request', { url: `http://127.0.0.1:${port}/redirect?to=${to}` }, context);
    expect(result.output).toMatchObject({ status: 200, url: `http://127.0.0.1:${port}/landing` });
  });

  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/',
    'http://[::1]/',
    'http://intranet.test/',
    'file:///etc/passwd',
  ])('re-checks a redirect to %s and refuses it', async (target) => {
    const url = `http://127.0.0.1:${port}/redirect?to=${encodeURIComponent(target)}`;
    const error = await refusal(registryWith(allowLoopback), url);
    expect(error.code).toBe('refused');
    expect(served).toHaveLength(1);
    const hosts = connects.map((args) => {
      const first = (Array.isArray(args) ? args[0] : args) as unknown;
      const options = (Array.isArray(first) ? first[0] : first) as { host?: string };
      return options.host;
    });
    // A socket given a host name only connects after the guarded lookup accepts an address.
    expect(hosts.filter((h) => net.isIP(h ?? '') !== 0)).toEqual(['127.0.0.1']);
  });

  it('stops after five redirects', async () => {
    let url = `http://127.0.0.1:${port}/end`;
    for (let i = 0; i < 6; i++) url = `http://127.0.0.1:${port}/redirect?to=${encodeURIComponent(url)}`;
    const error = await refusal(registryWith(allowLoopback), url);
    expect(error.message).toMatch(/redirects/);
  });
});
