import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { parse, parseAllDocuments } from 'yaml';
import { appPorts } from './nexus-apps';
import { developmentApiKeys } from '@nexus/http';

/**
 * The Kubernetes manifests (infra/kubernetes), rendered by `kubectl kustomize` as a user renders
 * them, every object checked against its schema offline, then the rules a deployment must keep.
 */
const root = process.cwd();
const read = (path: string): string => readFileSync(join(root, path), 'utf8');
const overlays = ['small', 'production'] as const;

interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string> };
  readonly [field: string]: unknown;
}

/** The model of every kind the manifests may hold; a kind not listed here fails the test. */
const models: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'gateway.networking.k8s.io/v1/HTTPRoute': HTTPRoute,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
};


const workers = ['projector', 'tool-runner', 'llm-gateway'];
const apis = ['command-api', 'query-api', 'llm-gateway'];

function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const kubectl = hasKubectl();
if (!kubectl) console.warn('kubectl is not installed: the Kubernetes manifests are not rendered or checked (.ci/run installs it)');
const describeRendered = kubectl ? describe : describe.skip;

function render(overlay: string): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', join(root, 'infra/kubernetes/overlays', overlay)], { encoding: 'utf8' });
  return parseAllDocuments(out)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null);
}

const rendered = Object.fromEntries(overlays.map((overlay) => [overlay, kubectl ? render(overlay) : []])) as Record<(typeof overlays)[number], K8sObject[]>;

interface Container {
  readonly name: string;
  readonly image: string;
  readonly command?: string[];
  readonly ports?: { name?: string; containerPort: number }[];
  readonly readinessProbe?: { httpGet?: { path: string; port: string | number } };
  readonly livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readonly resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readonly securityContext?: { runAsNonRoot?: boolean; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  readonly volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  readonly containers: Container[];
  readonly initContainers?: Container[];
  readonly securityContext?: { runAsNonRoot?: boolean };
  readonly volumes?: { name: string; emptyDir?: unknown; secret?: { secretName: string } }[];
}
type Workload = K8sObject & { spec: { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } } };
type Selector = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };

const ofKind = <T extends K8sObject>(objects: K8sObject[], kind: string): T[] => objects.filter((object) => object.kind === kind) as T[];
const named = <T extends K8sObject>(objects: K8sObject[], kind: string, name: string): T => {
  const found = ofKind<T>(objects, kind).find((object) => object.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name}`);
  return found;
};

/** Whether a label selector (matchLabels, matchExpressions In/Exists) selects these labels. */
function selects(selector: Selector, labels: Record<string, string>): boolean {
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const byExpression = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) =>
    operator === 'In' ? values.includes(labels[key] ?? '') : operator === 'Exists' ? key in labels : false,
  );
  return byLabel && byExpression;
}

describeRendered.each(overlays)('the %s overlay', (overlay) => {
  const objects = rendered[overlay];
  const deployments = ofKind<Workload>(objects, 'Deployment');
  const config = named<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', 'nexus-config').data;
  const partitions = Number(config['NEXUS_BUS_PARTITIONS']);

  it('renders only kinds Nexus knows, each valid against its schema', () => {
    expect(objects.length).toBeGreaterThan(20);
    for (const object of objects) {
      const model = models[`${object.apiVersion}/${object.kind}`];
      expect({ object: `${object.kind}/${object.metadata.name}`, known: model !== undefined }).toEqual({ object: `${object.kind}/${object.metadata.name}`, known: true });
      // Throws naming every field that does not fit the schema.
      new (model as new (data: K8sObject) => { validate(): void })(object).validate();
    }
  });

  it('deploys the five apps from the image compose builds, each running its own main on its port', () => {
    const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, { image?: string; build?: { dockerfile?: string } }> };
    const composeImage = (compose.services['command-api']?.image ?? '').split(':')[0];
    expect(compose.services['command-api']?.build?.dockerfile).toBe('infra/docker/Dockerfile');
    expect(deployments.map((deployment) => deployment.metadata.name).sort()).toEqual(Object.keys(appPorts).sort());
    for (const deployment of deployments) {
      const name = deployment.metadata.name;
      const [container] = deployment.spec.template.spec.containers;
      expect(container?.image.split(':')[0]?.split('/').at(-1)).toBe(composeImage);
      expect(container?.command?.join(' ')).toContain(`apps/${name}/src/main.ts`);
      expect(container?.ports).toEqual([{ name: 'http', containerPort: appPorts[name] }]);
    }
    if (overlay === 'small') for (const deployment of deployments) expect(deployment.spec.template.spec.containers[0]?.image).toBe('nexus:local');
  });

  it('gives every container probes, requests and limits, a non-root user and a read-only root filesystem', () => {
    for (const deployment of deployments) {
      const pod = deployment.spec.template.spec;
      const writable = new Set(pod.volumes?.filter((volume) => volume.emptyDir !== undefined).map((volume) => volume.name));
      for (const container of [...pod.containers, ...(pod.initContainers ?? [])]) {
        const where = `${deployment.metadata.name}/${container.name}`;
        expect({ where, readiness: container.readinessProbe?.httpGet?.path, liveness: container.livenessProbe?.httpGet?.path }).toEqual({
          where,
          readiness: '/readyz',
          liveness: '/healthz',
        });
        expect({ where, requests: container.resources?.requests, limits: container.resources?.limits }).toEqual({
          where,
          requests: { cpu: expect.any(String), memory: expect.any(String) },
          limits: { cpu: expect.any(String), memory: expect.any(String) },
        });
        expect({ where, ...container.securityContext }).toMatchObject({ where, runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
        // The TypeScript transform cache is written to the temporary directory.
        const tmp = container.volumeMounts?.find((mount) => mount.mountPath === '/tmp');
        expect({ where, tmpWritable: tmp !== undefined && writable.has(tmp.name) }).toEqual({ where, tmpWritable: true });
      }
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
    }
  });

  it('holds no development key or development-key switch anywhere, and leaves the API keys Secret to the operator', () => {
    const text = JSON.stringify(objects);
    for (const { key } of developmentApiKeys) expect(text).not.toContain(key);
    expect(text).not.toContain('NEXUS_ALLOW_DEV_KEYS');
    for (const secret of ofKind<K8sObject & { data?: Record<string, string>; stringData?: Record<string, string> }>(objects, 'Secret')) {
      const values = [...Object.values(secret.data ?? {}).map((value) => Buffer.from(value, 'base64').toString('utf8')), ...Object.values(secret.stringData ?? {})];
      for (const { key } of developmentApiKeys) expect(values.join('\n')).not.toContain(key);
    }
    // The keys come from a Secret the operator creates (DEPLOYMENT.md), mounted at NEXUS_API_KEYS_FILE.
    expect(ofKind(objects, 'Secret').map((secret) => secret.metadata.name)).not.toContain('nexus-api-keys');
    for (const deployment of deployments) {
      const pod = deployment.spec.template.spec;
      const volume = pod.volumes?.find((candidate) => candidate.secret?.secretName === 'nexus-api-keys');
      const mount = pod.containers[0]?.volumeMounts?.find((candidate) => candidate.name === volume?.name);
      expect(config['NEXUS_API_KEYS_FILE']?.startsWith(`${mount?.mountPath}/`)).toBe(true);
    }
  });

  it('scales every worker on its bus backlog up to the partition count at most, the APIs on CPU', () => {
    expect(partitions).toBeGreaterThan(0);
    const scaled = ofKind<K8sObject & { spec: { scaleTargetRef: { name: string }; minReplicaCount: number; maxReplicaCount: number; triggers: { type: string; metadata: { query: string } }[] } }>(
      objects,
      'ScaledObject',
    );
    for (const worker of workers) {
      const scaledObject = scaled.find((candidate) => candidate.spec.scaleTargetRef.name === worker);
      expect({ worker, max: scaledObject?.spec.maxReplicaCount !== undefined && scaledObject.spec.maxReplicaCount <= partitions }).toEqual({ worker, max: true });
      // The metric is reported by the pods themselves: at zero pods nothing would report a backlog.
      expect(scaledObject?.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
      const [trigger] = scaledObject?.spec.triggers ?? [];
      expect(trigger?.type).toBe('prometheus');
      expect(trigger?.metadata.query).toBe(`sum(nexus_bus_consumer_pending_messages{consumer="${worker}"})`);
    }
    const hpas = ofKind<K8sObject & { spec: { scaleTargetRef: { name: string }; metrics: { resource?: { name: string } }[] } }>(objects, 'HorizontalPodAutoscaler');
    for (const api of ['command-api', 'query-api']) {
      expect(hpas.find((hpa) => hpa.spec.scaleTargetRef.name === api)?.spec.metrics.map((metric) => metric.resource?.name)).toEqual(['cpu']);
    }
  });

  it('gives every app a disruption budget and spreads its pods over nodes', () => {
    const budgets = ofKind<K8sObject & { spec: { selector: Selector } }>(objects, 'PodDisruptionBudget');
    for (const deployment of deployments) {
      const labels = deployment.spec.template.metadata.labels;
      expect({ app: deployment.metadata.name, budgets: budgets.filter((budget) => selects(budget.spec.selector, labels)).length }).toEqual({ app: deployment.metadata.name, budgets: 1 });
      const spread = (deployment.spec.template.spec as PodSpec & { topologySpreadConstraints?: { topologyKey: string }[] }).topologySpreadConstraints;
      expect(spread?.map((constraint) => constraint.topologyKey)).toContain('kubernetes.io/hostname');
    }
  });

  it('denies ingress to every app but from the gateway (APIs) and monitoring (metrics), and lets only the apps reach the data services', () => {
    type Policy = K8sObject & { spec: { podSelector: Selector; policyTypes: string[]; ingress?: { from?: { podSelector?: Selector; namespaceSelector?: Selector }[] }[] } };
    const policies = ofKind<Policy>(objects, 'NetworkPolicy');
    const covering = (labels: Record<string, string>) => policies.filter((policy) => policy.spec.policyTypes.includes('Ingress') && selects(policy.spec.podSelector, labels));
    for (const deployment of deployments) {
      const name = deployment.metadata.name;
      const sources = covering(deployment.spec.template.metadata.labels).flatMap((policy) => (policy.spec.ingress ?? []).flatMap((rule) => rule.from ?? []));
      // Covered (the default deny selects it), and nothing but namespaces may reach it: no pod of its own namespace.
      expect({ name, covered: covering(deployment.spec.template.metadata.labels).length > 0 }).toEqual({ name, covered: true });
      // The label the data services' policies let in.
      expect({ name, partOf: deployment.spec.template.metadata.labels['app.kubernetes.io/part-of'] }).toEqual({ name, partOf: 'nexus' });
      expect({ name, podSources: sources.filter((source) => source.podSelector !== undefined && source.namespaceSelector === undefined).length }).toEqual({ name, podSources: 0 });
      const namespaces = sources.map((source) => source.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name']);
      expect({ name, namespaces: [...new Set(namespaces)].sort() }).toEqual({ name, namespaces: apis.includes(name) ? ['gateway-system', 'monitoring'] : ['monitoring'] });
    }
    for (const [service, labels] of [
      ['postgres', { 'cnpg.io/cluster': 'nexus-postgres' }],
      ['nats', { 'app.kubernetes.io/name': 'nats' }],
      ['redis', { 'app.kubernetes.io/name': 'redis' }],
      ['qdrant', { 'app.kubernetes.io/name': 'qdrant' }],
    ] as const) {
      const podSources = covering(labels).flatMap((policy) => (policy.spec.ingress ?? []).flatMap((rule) => rule.from ?? [])).filter((source) => source.podSelector !== undefined);
      expect({ service, fromApps: podSources.some((source) => source.podSelector?.matchLabels?.['app.kubernetes.io/part-of'] === 'nexus') }).toEqual({ service, fromApps: true });
      // Other than the apps, only the service's own peers.
      for (const source of podSources) expect(selects(source.podSelector ?? {}, { 'app.kubernetes.io/part-of': 'nexus' }) || selects(source.podSelector ?? {}, labels)).toBe(true);
    }
  });

  it('routes requests as nginx does in compose, and keeps the admin endpoints and /metrics private', () => {
    const route = named<K8sObject & { spec: { rules: RouteRule[] } }>(objects, 'HTTPRoute', 'nexus');
    const cases: [string, string, string | undefined][] = [
      ['POST', '/v1/sessions', 'command-api'],
      ['GET', '/v1/sessions', 'query-api'],
      ['GET', '/v1/sessions/s1', 'query-api'],
      ['POST', '/v1/sessions/s1/runs', 'command-api'],
      ['POST', '/v1/sessions/s1/budget/reservations', 'command-api'],
      ['POST', '/v1/runs/r1/cancel', 'command-api'],
      ['GET', '/v1/runs/r1', 'query-api'],
      ['GET', '/v1/runs/r1/stream', 'query-api'],
      ['POST', '/v1/tool-calls/t1/approve', 'command-api'],
      ['GET', '/v1/tool-calls', 'query-api'],
      ['GET', '/v1/audit', 'query-api'],
      ['GET', '/v1/streams/session-s1/events', 'query-api'],
      ['POST', '/v1/chat/completions', 'llm-gateway'],
      ['POST', '/v1/responses', 'llm-gateway'],
      ['POST', '/v1/embeddings', 'llm-gateway'],
      ['GET', '/v1/models', 'llm-gateway'],
      ['POST', '/v1/admin/projections/sessions/rebuild', undefined],
      ['GET', '/metrics', undefined],
      ['GET', '/healthz', undefined],
    ];
    for (const [method, path, backend] of cases) expect({ method, path, backend: routeTo(route.spec.rules, method, path)?.backendRefs[0]?.name }).toEqual({ method, path, backend });
    // Open SSE streams and streamed completions outlive a default route timeout.
    expect(routeTo(route.spec.rules, 'GET', '/v1/runs/r1/stream')?.timeouts?.request).toBe('1h');
    expect(routeTo(route.spec.rules, 'POST', '/v1/chat/completions')?.timeouts?.request).toBe('300s');
    expect(routeTo(route.spec.rules, 'POST', '/v1/responses')?.timeouts?.request).toBe('300s');
  });

  it('mounts the Cedar policies and the stream definition from ConfigMaps the apps are pointed at', () => {
    expect(config['NEXUS_POLICY_DIR']).toBe('/etc/nexus/policies');
    const policies = ofKind<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap').find((map) => map.metadata.name.startsWith('nexus-policies'));
    expect(Object.keys(policies?.data ?? {}).sort()).toEqual(['default.cedar', 'nexus.cedarschema']);
    const streams = ofKind<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap').find((map) => map.metadata.name.startsWith('nexus-nats-streams'));
    const events = (JSON.parse(streams?.data['streams.json'] ?? '{}') as { events: Record<string, unknown> }).events;
    const { num_replicas: _replicas, description: _description, ...rest } = events;
    const { num_replicas: _compose, description: _composeDescription, ...composeRest } = (JSON.parse(read('infra/nats/streams.json')) as { events: Record<string, unknown> }).events;
    expect(rest).toEqual(composeRest);
    expect(events['num_replicas']).toBe(overlay === 'production' ? 3 : 1);
    const dashboard = named<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', 'nexus-grafana-dashboard');
    expect(dashboard.metadata.labels?.['grafana_dashboard']).toBe('1');
    expect(config['OTEL_EXPORTER_OTLP_ENDPOINT']).toMatch(/^https?:\/\//);
  });
});

describe('the Kubernetes files beside the manifests', () => {
  it('keeps the base copies of the policies, the stream definition and the dashboard equal to their originals', () => {
    for (const [copy, original] of [
      ['files/default.cedar', 'infra/policies/default.cedar'],
      ['files/nexus.cedarschema', 'infra/policies/nexus.cedarschema'],
      ['files/streams.json', 'infra/nats/streams.json'],
      ['files/nexus.json', 'infra/grafana/dashboards/nexus.json'],
    ] as const) {
      expect({ copy, same: read(join('infra/kubernetes/base', copy)) === read(original) }).toEqual({ copy, same: true });
    }
    // Every policy file there is copied: a new one would otherwise be missing on Kubernetes.
    expect(readdirSync(join(root, 'infra/policies')).sort()).toEqual(['default.cedar', 'nexus.cedarschema']);
  });

  it('scales on a metric the bus registers, named for consumer groups the apps run', () => {
    expect(read('libs/bus/src/bus-metrics.ts')).toContain("'nexus_bus_consumer_pending_messages'");
    expect(read('apps/tool-runner/src/run-tool-calls/run-tool-calls.worker.ts')).toContain("TOOL_RUNNER_CONSUMER = 'tool-runner'");
    expect(read('apps/llm-gateway/src/call-llm/call-llm.worker.ts')).toContain("LLM_GATEWAY_CONSUMER = 'llm-gateway'");
    expect(read('libs/projections/src/projector-consumer.ts')).toContain("PROJECTOR_CONSUMER = 'projector'");
  });

  it('runs JetStream with fsync on every write in both profiles, and names the PostgreSQL Cluster the apps read', () => {
    for (const profile of overlays) {
      const nats = parse(read(`infra/kubernetes/values/${profile}/nats.yaml`)) as { config: { jetstream: { enabled: boolean; fileStore: { pvc: { enabled: boolean } }; merge: Record<string, string> } } };
      expect(nats.config.jetstream).toMatchObject({ enabled: true, fileStore: { pvc: { enabled: true } }, merge: { sync_interval: 'always' } });
      const [cluster] = parseAllDocuments(read(`infra/kubernetes/values/${profile}/postgres-cluster.yaml`)).map((doc) => doc.toJS() as K8sObject & { spec: { bootstrap: unknown } });
      // CloudNativePG writes `<cluster>-app` with the `uri` the apps take as DATABASE_URL.
      expect(cluster).toMatchObject({ apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', metadata: { name: 'nexus-postgres' }, spec: { bootstrap: { initdb: { database: 'nexus', owner: 'nexus' } } } });
    }
    const deployment = read('infra/kubernetes/base/projector.deployment.yaml');
    expect(deployment).toContain('secretKeyRef: { name: nexus-postgres-app, key: uri }');
  });
});

interface RouteRule {
  readonly matches: { path: { type: string; value: string }; method?: string }[];
  readonly backendRefs: { name: string }[];
  readonly timeouts?: { request?: string };
}

/** The rule a Gateway API implementation picks: exact path, then the longest prefix, then a method match. */
function routeTo(rules: readonly RouteRule[], method: string, path: string): RouteRule | undefined {
  const prefixMatches = (prefix: string) => path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
  const candidates = rules.flatMap((rule) =>
    rule.matches
      .filter((match) => (match.method === undefined || match.method === method) && (match.path.type === 'Exact' ? path === match.path.value : prefixMatches(match.path.value)))
      .map((match) => ({ rule, exact: match.path.type === 'Exact' ? 1 : 0, length: match.path.value.length, method: match.method === undefined ? 0 : 1 })),
  );
  candidates.sort((a, b) => b.exact - a.exact || b.length - a.length || b.method - a.method);
  return candidates[0]?.rule;
}
