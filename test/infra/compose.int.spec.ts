import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { appPorts } from './nexus-apps';

/**
 * The distributed stack's files, checked without a Docker engine: `docker-compose config` when
 * Debian's docker-compose is installed (.ci/run installs it), and the structure either way.
 */
const root = process.cwd();
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

interface Service {
  readonly image?: string;
  readonly build?: unknown;
  readonly command?: readonly string[];
  readonly ports?: readonly string[];
  readonly container_name?: string;
  readonly deploy?: { readonly replicas?: number };
  readonly environment?: Record<string, string>;
  readonly healthcheck?: { readonly test?: readonly string[] };
  readonly secrets?: readonly string[];
  readonly networks?: Record<string, { readonly ipv4_address?: string }>;
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, Service>;
  secrets?: Record<string, { readonly file?: string }>;
  networks?: { default?: { ipam?: { config?: { subnet?: string; ip_range?: string }[] } } };
};

const service = (name: string): Service => {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};

/** What an operator puts in .env before the stack starts (docker-compose.yml refuses without). */
const requiredVariables = { NEXUS_API_KEYS_SECRET: 'infra/secrets/api-keys.example.json', GRAFANA_ADMIN_PASSWORD: 'not-the-default' };

function hasDockerCompose(): boolean {
  try {
    execFileSync('docker-compose', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('docker-compose.yml', () => {
  it('passes `docker-compose config` when the binary is installed', () => {
    if (!hasDockerCompose()) return;
    // Throws with docker-compose's message when the file is invalid.
    execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { cwd: root, stdio: 'pipe', env: { ...process.env, ...requiredVariables } });
    const { NEXUS_API_KEYS_SECRET: _keys, GRAFANA_ADMIN_PASSWORD: _password, ...without } = process.env;
    expect(() => execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { cwd: root, stdio: 'pipe', env: without })).toThrow(
      /NEXUS_API_KEYS_SECRET|GRAFANA_ADMIN_PASSWORD/,
    );
  });

  it('has the data stores, the observability stack, nginx and every app', () => {
    const expected = ['postgres', 'redis', 'nats', 'qdrant', 'nginx', 'prometheus', 'grafana', 'jaeger', ...Object.keys(appPorts)];
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(expected));
  });

  it('runs each app from the multi-stage image, listening on all interfaces, tracing to jaeger', () => {
    for (const [name, port] of Object.entries(appPorts)) {
      const app = service(name);
      expect(app.build).toMatchObject({ dockerfile: 'infra/docker/Dockerfile' });
      expect(app.command?.join(' ')).toContain(`apps/${name}/src/main.ts`);
      expect(app.environment).toMatchObject({
        NEXUS_HOST: '0.0.0.0',
        DATABASE_URL: expect.stringContaining('@postgres:'),
        NATS_URL: 'nats://nats:4222',
        REDIS_URL: 'redis://redis:6379',
        OTEL_EXPORTER_OTLP_ENDPOINT: expect.stringContaining('jaeger'),
      });
      expect(app.healthcheck?.test).toEqual(['CMD', 'node', 'infra/docker/readyz.mjs', String(port)]);
    }
  });

  it('replicates both APIs and keeps every app scalable (no fixed names or host ports)', () => {
    expect(service('command-api').deploy?.replicas).toBeGreaterThanOrEqual(2);
    expect(service('query-api').deploy?.replicas).toBeGreaterThanOrEqual(2);
    for (const name of Object.keys(appPorts)) {
      expect(service(name).container_name).toBeUndefined();
      expect(service(name).ports).toBeUndefined();
    }
  });

  it('publishes nginx alone: the API on every interface, the operators\' listener on loopback only', () => {
    const published = Object.entries(compose.services).flatMap(([name, { ports = [] }]) => ports.map((port) => ({ name, port })));
    expect(published).toEqual([
      { name: 'nginx', port: '8080:80' },
      { name: 'nginx', port: '127.0.0.1:8081:8081' },
    ]);
    // The operators' UIs are reached through that listener, each serving from its own prefix.
    const nginx = read('infra/nginx/nginx.conf');
    const operators = nginx.slice(nginx.indexOf('listen 8081;'));
    for (const [prefix, upstream] of [['/grafana/', 'grafana:3000'], ['/prometheus/', 'prometheus:9090'], ['/jaeger/', 'jaeger:16686']]) {
      expect(operators).toContain(`location ${prefix} {`);
      expect(operators).toContain(`proxy_pass http://${upstream}`);
    }
    expect(service('grafana').environment).toMatchObject({ GF_SERVER_ROOT_URL: expect.stringContaining('/grafana/'), GF_SERVER_SERVE_FROM_SUB_PATH: 'true' });
    expect(service('prometheus').command).toContain('--web.route-prefix=/prometheus');
    expect(service('jaeger').environment).toMatchObject({ QUERY_BASE_PATH: '/jaeger' });
  });

  it('gives every app the API keys file as a secret that must exist, and never the development keys', () => {
    expect(read('docker-compose.yml')).not.toContain('NEXUS_ALLOW_DEV_KEYS');
    expect(compose.secrets?.['api_keys']?.file).toMatch(/^\$\{NEXUS_API_KEYS_SECRET:\?.+\}$/);
    for (const name of Object.keys(appPorts)) {
      expect(service(name).secrets).toContain('api_keys');
      expect(service(name).environment?.['NEXUS_API_KEYS_FILE']).toBe('/run/secrets/api_keys');
      expect(service(name).environment?.['NEXUS_ALLOW_DEV_KEYS']).toBeUndefined();
    }
    // The example is a shape, not keys: copied unchanged it is refused at start (keys ≥ 16 characters).
    const example = JSON.parse(read('infra/secrets/api-keys.example.json')) as { key: string }[];
    expect(example.every(({ key }) => key.length < 16)).toBe(true);
  });

  it('trusts X-Forwarded-For from nginx alone, at an address Docker hands to no other container', () => {
    const nginx = service('nginx').networks?.['default']?.ipv4_address;
    const [ipam] = compose.networks?.default?.ipam?.config ?? [];
    expect(nginx).toBeDefined();
    for (const name of Object.keys(appPorts)) expect(service(name).environment?.['NEXUS_TRUSTED_PROXIES']).toBe(nginx);
    const toNumber = (address: string) => address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
    const inside = (address: string, cidr: string) => {
      const [base = '', bits = '32'] = cidr.split('/');
      const size = 2 ** (32 - Number(bits));
      return Math.floor(toNumber(address) / size) === Math.floor(toNumber(base) / size);
    };
    expect(inside(nginx ?? '', ipam?.subnet ?? '')).toBe(true);
    expect(inside(nginx ?? '', ipam?.ip_range ?? '')).toBe(false);
  });

  it('requires a Grafana admin password from the environment', () => {
    expect(service('grafana').environment?.['GF_SECURITY_ADMIN_PASSWORD']).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?.+\}$/);
  });

  it('runs JetStream with fsync on every write', () => {
    const nats = read('infra/nats/nats-server.conf');
    expect(nats).toMatch(/jetstream\s*\{[^}]*sync_interval:\s*always/);
    expect(service('nats').command).toEqual(['-c', '/etc/nats/nats-server.conf']);
  });
});

describe('prometheus, nginx and grafana', () => {
  it('scrapes /metrics of every app by compose DNS name on the app port', () => {
    const prometheus = parse(read('infra/prometheus/prometheus.yml')) as {
      scrape_configs: { job_name: string; metrics_path?: string; dns_sd_configs?: { names: string[]; port: number }[] }[];
    };
    for (const [name, port] of Object.entries(appPorts)) {
      const job = prometheus.scrape_configs.find((candidate) => candidate.job_name === name);
      expect(job?.metrics_path ?? '/metrics').toBe('/metrics');
      expect(job?.dns_sd_configs).toEqual([expect.objectContaining({ names: [name], port })]);
    }
  });

  it('routes commands, queries, the SSE stream and the OpenAI-compatible endpoints to the right upstreams', () => {
    const nginx = read('infra/nginx/nginx.conf');
    expect(nginx).toContain(`server command-api:${appPorts['command-api']} resolve;`);
    expect(nginx).toContain(`server query-api:${appPorts['query-api']} resolve;`);
    expect(nginx).toContain(`server llm-gateway:${appPorts['llm-gateway']} resolve;`);
    expect(nginx).toMatch(/location ~ \^\/v1\/runs\/\[\^\/\]\+\/stream\$ \{[^}]*proxy_buffering off;/);
    expect(nginx).toMatch(/location = \/v1\/chat\/completions \{\s*proxy_pass http:\/\/llm_gateway;/);
    expect(nginx).toMatch(/location = \/v1\/responses \{\s*proxy_pass http:\/\/llm_gateway;\s*proxy_buffering off;/);
    expect(nginx).toMatch(/location = \/v1\/embeddings \{\s*proxy_pass http:\/\/llm_gateway;/);
    expect(nginx).toMatch(/location \^~ \/v1\/models \{\s*proxy_pass http:\/\/llm_gateway;/);
    expect(nginx).toMatch(/location ~ \^\/v1\/\(sessions\|runs\/.*cancel.*approve\|reject.*\{\s*proxy_pass http:\/\/\$write_or_read;/);
  });

  it('keeps the admin endpoints and /metrics off the public listener, which sets X-Forwarded-For to its peer', () => {
    const nginx = read('infra/nginx/nginx.conf');
    const servers = serverBlocks(nginx);
    const publicServer = servers.find((block) => /listen 80;/.test(block)) ?? '';
    const adminServer = servers.find((block) => /listen 8081;/.test(block)) ?? '';
    expect(publicServer).toMatch(/location \^~ \/v1\/admin\/ \{ return 404; \}/);
    expect(publicServer).toMatch(/location = \/metrics \{ return 404; \}/);
    expect(publicServer).not.toMatch(/location[^{]*\/v1\/admin[^{]*\{[^}]*proxy_pass/);
    expect(adminServer).toMatch(/location \/v1\/admin\/ \{\s*proxy_pass http:\/\/query_api;/);
    expect(adminServer).not.toContain('metrics');
    expect(nginx).toContain('proxy_set_header X-Forwarded-For $remote_addr;');
    expect(nginx).not.toContain('$proxy_add_x_forwarded_for');
  });

  it('provisions a dashboard whose queries use only metrics the apps register', () => {
    const sources = sourceFiles(['libs', 'apps']).map((file) => readFileSync(file, 'utf8')).join('\n');
    const dashboard = read('infra/grafana/dashboards/nexus.json');
    const used = new Set([...dashboard.matchAll(/nexus_[a-z_]+/g)].map(([name]) => name.replace(/_(bucket|count|sum)$/, '')));
    expect(used.size).toBeGreaterThan(15);
    for (const name of used) expect({ name, registered: sources.includes(`'${name}'`) }).toEqual({ name, registered: true });
    expect(read('infra/grafana/provisioning/dashboards/nexus.yml')).toContain('/etc/grafana/dashboards');
    expect(read('infra/grafana/provisioning/datasources/prometheus.yml')).toContain('http://prometheus:9090/prometheus');
  });
});

/** The text of each `server { … }` block, braces matched. */
function serverBlocks(conf: string): string[] {
  const blocks: string[] = [];
  for (const match of conf.matchAll(/\bserver\s*\{/g)) {
    let depth = 0;
    for (let i = match.index; i < conf.length; i++) {
      if (conf[i] === '{') depth++;
      if (conf[i] === '}' && --depth === 0) {
        blocks.push(conf.slice(match.index, i + 1));
        break;
      }
    }
  }
  return blocks;
}

function sourceFiles(folders: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      if (entry === 'node_modules') continue;
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts') && !path.endsWith('.spec.ts')) files.push(path);
    }
  };
  for (const folder of folders) walk(join(root, folder));
  return files;
}
