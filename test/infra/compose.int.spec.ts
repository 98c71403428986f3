import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { loadConfig } from '@nexus/config';

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
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const defaults = loadConfig({});
const apps: Record<string, number> = {
  'command-api': defaults.COMMAND_API_PORT,
  'query-api': defaults.QUERY_API_PORT,
  'llm-gateway': defaults.LLM_GATEWAY_PORT,
  projector: defaults.PROJECTOR_PORT,
  'tool-runner': defaults.TOOL_RUNNER_PORT,
};
const service = (name: string): Service => {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};

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
    execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { cwd: root, stdio: 'pipe' });
  });

  it('has the data stores, the observability stack, nginx and every app', () => {
    const expected = ['postgres', 'redis', 'nats', 'qdrant', 'nginx', 'prometheus', 'grafana', 'jaeger', ...Object.keys(apps)];
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(expected));
  });

  it('runs each app from the multi-stage image, listening on all interfaces, tracing to jaeger', () => {
    for (const [name, port] of Object.entries(apps)) {
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
    for (const name of Object.keys(apps)) {
      expect(service(name).container_name).toBeUndefined();
      expect(service(name).ports).toBeUndefined();
    }
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
    for (const [name, port] of Object.entries(apps)) {
      const job = prometheus.scrape_configs.find((candidate) => candidate.job_name === name);
      expect(job?.metrics_path ?? '/metrics').toBe('/metrics');
      expect(job?.dns_sd_configs).toEqual([expect.objectContaining({ names: [name], port })]);
    }
  });

  it('routes commands, queries, the SSE stream and chat completions to the right upstreams', () => {
    const nginx = read('infra/nginx/nginx.conf');
    expect(nginx).toContain(`server command-api:${apps['command-api']} resolve;`);
    expect(nginx).toContain(`server query-api:${apps['query-api']} resolve;`);
    expect(nginx).toContain(`server llm-gateway:${apps['llm-gateway']} resolve;`);
    expect(nginx).toMatch(/location ~ \^\/v1\/runs\/\[\^\/\]\+\/stream\$ \{[^}]*proxy_buffering off;/);
    expect(nginx).toMatch(/location = \/v1\/chat\/completions \{\s*proxy_pass http:\/\/llm_gateway;/);
    expect(nginx).toMatch(/location ~ \^\/v1\/\(sessions\|runs\/.*cancel.*approve\|reject.*\{\s*proxy_pass http:\/\/\$write_or_read;/);
  });

  it('provisions a dashboard whose queries use only metrics the apps register', () => {
    const sources = sourceFiles(['libs', 'apps']).map((file) => readFileSync(file, 'utf8')).join('\n');
    const dashboard = read('infra/grafana/dashboards/nexus.json');
    const used = new Set([...dashboard.matchAll(/nexus_[a-z_]+/g)].map(([name]) => name.replace(/_(bucket|count|sum)$/, '')));
    expect(used.size).toBeGreaterThan(15);
    for (const name of used) expect({ name, registered: sources.includes(`'${name}'`) }).toEqual({ name, registered: true });
    expect(read('infra/grafana/provisioning/dashboards/nexus.yml')).toContain('/etc/grafana/dashboards');
    expect(read('infra/grafana/provisioning/datasources/prometheus.yml')).toContain('http://prometheus:9090');
  });
});

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
