import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { describeWithTool } from '../../support/tools';

/**
 * deploy/k8s rendered by the real kustomize (scripts/tools/kustomize.sh builds it from the Go
 * module proxy into .stack/bin once) and every object validated offline against the Kubernetes
 * API's schemas and KEDA's CRDs (npm kubernetes-models, @kubernetes-models/keda; run in
 * test/support/k8s-validate.mjs). Then what the issue asks of a deployment: each stage scales on
 * its consumer lag up to its input partitions and no further, with probes, resources, a grace
 * period long enough for a graceful shutdown and a disruption budget.
 */

const ROOT = join(__dirname, '..', '..', '..');
const K8S = join(ROOT, 'deploy', 'k8s');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- checked field by field below
  data?: Record<string, string>;
}

/** The consumer stages: input topic (after TOPIC_PREFIX) and default consumer group. */
const STAGES = {
  chunker: { input: 'documents', group: 'rag-chunker', port: 3001 },
  embedder: { input: 'chunks', group: 'rag-embedder', port: 3002 },
  indexer: { input: 'embeddings', group: 'rag-indexer', port: 3003 },
} as const;
type Stage = keyof typeof STAGES;
const stageNames = Object.keys(STAGES) as Stage[];

let kustomizeBin: string;

function render(dir: string): K8sObject[] {
  const yaml = execFileSync(kustomizeBin, ['build', join(K8S, dir)], { encoding: 'utf8', maxBuffer: 32 * 1024 * 1024 });
  return parseAllDocuments(yaml)
    .map((doc) => doc.toJSON() as K8sObject | null)
    .filter((o): o is K8sObject => !!o);
}

function validate(objects: K8sObject[]): { kind: string; name: string; error: string | null }[] {
  const out = execFileSync(process.execPath, [join(ROOT, 'test', 'support', 'k8s-validate.mjs')], {
    input: JSON.stringify(objects),
    encoding: 'utf8',
    cwd: ROOT,
    maxBuffer: 32 * 1024 * 1024,
  });
  return JSON.parse(out) as { kind: string; name: string; error: string | null }[];
}

const find = (objects: K8sObject[], kind: string, name?: string) =>
  objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const one = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = find(objects, kind, name);
  if (found.length !== 1) throw new Error(`expected one ${kind}/${name}, found ${found.length}`);
  return found[0];
};

/** The value of `--name` in the provisioning Job's command (or its default). */
function provisionFlag(objects: K8sObject[], flag: string, fallback: number): number {
  const command = one(objects, 'Job', 'provision').spec.template.spec.containers[0].command as string[];
  const i = command.indexOf(flag);
  return i >= 0 ? Number(command[i + 1]) : fallback;
}

function configMap(objects: K8sObject[]): Record<string, string> {
  const maps = find(objects, 'ConfigMap').filter((c) => c.metadata.name.startsWith('rag-stream-config'));
  expect(maps).toHaveLength(1);
  return maps[0].data ?? {};
}

describeWithTool('go', 'deploy/k8s rendered by kustomize (built with go)', () => {
  beforeAll(() => {
    // Builds kustomize on first use (about 80 s on 2 cores with a cold Go module cache), then cached.
    kustomizeBin = execFileSync('bash', [join(ROOT, 'scripts', 'tools', 'kustomize.sh'), '--install'], {
      encoding: 'utf8',
      timeout: 15 * 60_000,
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
  }, 16 * 60_000);

  describe.each(['overlays/dev', 'overlays/prod', 'overlays/prod-kafka-sasl', 'hpa-alternative'])('deploy/k8s/%s', (dir) => {
    let objects: K8sObject[];

    beforeAll(() => {
      objects = render(dir);
    });

    it('renders with kustomize, and every object validates against the Kubernetes and KEDA schemas', () => {
      expect(objects.length).toBeGreaterThan(10);
      const results = validate(objects);
      expect(results).toHaveLength(objects.length);
      expect(results.filter((r) => r.error !== null)).toEqual([]);
      // Names are unique per kind, and everything namespaced lives in rag-stream.
      const keys = objects.map((o) => `${o.kind}/${o.metadata.name}`);
      expect(new Set(keys).size).toBe(keys.length);
      for (const o of objects.filter((x) => x.kind !== 'Namespace')) {
        expect({ object: `${o.kind}/${o.metadata.name}`, namespace: o.metadata.namespace }).toEqual({
          object: `${o.kind}/${o.metadata.name}`,
          namespace: 'rag-stream',
        });
      }
    });

    it('gives every Deployment probes, requests and limits, a graceful-shutdown grace period and a disruption budget', () => {
      const deployments = find(objects, 'Deployment');
      expect(deployments.map((d) => d.metadata.name).sort()).toEqual(expect.arrayContaining(['chunker', 'embedder', 'gateway', 'indexer']));
      const pdbs = find(objects, 'PodDisruptionBudget');
      const config = configMap(objects);
      for (const d of deployments) {
        const name = d.metadata.name;
        const pod = d.spec.template.spec;
        const podLabels = d.spec.template.metadata.labels as Record<string, string>;
        expect({ name, grace: pod.terminationGracePeriodSeconds >= 30 }).toEqual({ name, grace: true });
        for (const c of pod.containers) {
          expect({ name, container: c.name, readiness: c.readinessProbe?.httpGet?.path, liveness: c.livenessProbe?.httpGet?.path }).toEqual(
            {
              name,
              container: c.name,
              readiness: name === 'kafka-exporter' ? '/healthz' : '/readyz',
              liveness: '/healthz',
            },
          );
          for (const kind of ['requests', 'limits']) {
            expect({ name, kind, cpu: !!c.resources?.[kind]?.cpu, memory: !!c.resources?.[kind]?.memory }).toEqual({
              name,
              kind,
              cpu: true,
              memory: true,
            });
          }
        }
        // A PDB selects this Deployment's pods and lets at least one be evicted (else drains hang).
        const matching = pdbs.filter((p) =>
          Object.entries(p.spec.selector.matchLabels as Record<string, string>).every(([k, v]) => podLabels[k] === v),
        );
        expect({ name, pdbs: matching.length }).toEqual({ name, pdbs: 1 });
        const pdb = matching[0].spec;
        const replicas = d.spec.replicas ?? 1;
        expect({ name, allowsEviction: pdb.maxUnavailable !== undefined ? pdb.maxUnavailable >= 1 : pdb.minAvailable < replicas }).toEqual({
          name,
          allowsEviction: true,
        });
        if (name === 'kafka-exporter') continue;
        // The pipeline's pods: scraped on their HTTP port, graceful shutdown fits in the grace period.
        expect(d.spec.template.metadata.annotations).toMatchObject({
          'prometheus.io/scrape': 'true',
          'prometheus.io/path': '/metrics',
          'prometheus.io/port': String(pod.containers[0].ports[0].containerPort),
        });
        expect(Number(config.SHUTDOWN_TIMEOUT_MS ?? 30_000) / 1000).toBeLessThan(pod.terminationGracePeriodSeconds);
      }
    });

    it('meets the restricted Pod Security Standard, mounts no API token, and denies all traffic it does not need', () => {
      const namespace = one(objects, 'Namespace', 'rag-stream');
      expect(namespace.metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
      const pods = [...find(objects, 'Deployment'), ...find(objects, 'Job')].map((o) => ({
        name: o.metadata.name,
        pod: o.spec.template.spec,
        labels: o.spec.template.metadata?.labels ?? {},
      }));
      expect(pods.length).toBeGreaterThanOrEqual(6);
      for (const { name, pod } of pods) {
        expect({
          name,
          token: pod.automountServiceAccountToken,
          nonRoot: pod.securityContext?.runAsNonRoot,
          seccomp: pod.securityContext?.seccompProfile?.type,
        }).toEqual({
          name,
          token: false,
          nonRoot: true,
          seccomp: 'RuntimeDefault',
        });
        for (const c of pod.containers) {
          expect({
            name,
            escalation: c.securityContext?.allowPrivilegeEscalation,
            drop: c.securityContext?.capabilities?.drop,
            readOnly: c.securityContext?.readOnlyRootFilesystem,
          }).toEqual({
            name,
            escalation: false,
            drop: ['ALL'],
            readOnly: true,
          });
        }
      }

      const policies = find(objects, 'NetworkPolicy');
      const deny = policies.filter((p) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress && !p.spec.egress);
      expect(deny.map((p) => p.spec.policyTypes.sort())).toEqual([['Egress', 'Ingress']]);
      const selects = (policy: K8sObject, labels: Record<string, string>) => {
        const { matchLabels = {}, matchExpressions = [] } = policy.spec.podSelector as {
          matchLabels?: Record<string, string>;
          matchExpressions?: { key: string; operator: string; values: string[] }[];
        };
        return (
          Object.entries(matchLabels).every(([k, v]) => labels[k] === v) &&
          matchExpressions.every((e) => e.operator === 'In' && e.values.includes(labels[e.key]))
        );
      };
      const ingressFrom = (labels: Record<string, string>) =>
        policies
          .filter((p) => selects(p, labels))
          .flatMap((p) =>
            (p.spec.ingress ?? []).flatMap((rule: { from: { namespaceSelector: { matchLabels: Record<string, string> } }[] }) =>
              rule.from.map((f) => f.namespaceSelector.matchLabels['kubernetes.io/metadata.name']),
            ),
          );
      const egressPorts = (labels: Record<string, string>) =>
        policies
          .filter((p) => selects(p, labels))
          .flatMap((p) => (p.spec.egress ?? []).flatMap((rule: { ports: { port: number }[] }) => rule.ports.map((port) => port.port)));
      for (const { name, labels } of pods) {
        // Everyone reaches DNS, Kafka, the registry and Elasticsearch; only the gateway is reachable from the ingress.
        expect({ name, egress: [53, 9092, 8081, 9200].every((port) => egressPorts(labels).includes(port)) }).toEqual({
          name,
          egress: true,
        });
        expect({ name, from: [...new Set(ingressFrom(labels))].sort() }).toEqual({
          name,
          from: name === 'gateway' ? ['ingress-nginx', 'monitoring'] : ['monitoring'],
        });
        expect({ name, https: egressPorts(labels).includes(443) }).toEqual({ name, https: name === 'gateway' || name === 'embedder' });
      }
    });

    it('scales every consumer stage on its lag, never beyond its input partitions', () => {
      const partitions = provisionFlag(objects, '--partitions', 6);
      const replication = provisionFlag(objects, '--replication-factor', 1);
      expect(replication).toBeGreaterThanOrEqual(1);
      const config = configMap(objects);
      const prefix = config.TOPIC_PREFIX ?? 'ingest';
      for (const stage of stageNames) {
        const deployment = one(objects, 'Deployment', stage);
        // The autoscaler owns the replica count; a fixed one would be reset on every apply.
        expect({ stage, replicas: deployment.spec.replicas }).toEqual({ stage, replicas: undefined });
        const { input, group } = STAGES[stage];
        const scaledObjects = find(objects, 'ScaledObject', stage);
        const hpas = find(objects, 'HorizontalPodAutoscaler', stage);
        expect({ stage, autoscalers: scaledObjects.length + hpas.length }).toEqual({ stage, autoscalers: 1 });
        if (dir === 'hpa-alternative') {
          const hpa = hpas[0].spec;
          expect(hpa.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: stage });
          expect({ stage, max: hpa.maxReplicas <= partitions, min: hpa.minReplicas >= 1 && hpa.minReplicas <= hpa.maxReplicas }).toEqual({
            stage,
            max: true,
            min: true,
          });
          expect(hpa.metrics).toEqual([
            expect.objectContaining({
              type: 'External',
              external: expect.objectContaining({
                metric: {
                  name: 'kafka_consumergroup_lag_sum',
                  selector: { matchLabels: { consumergroup: group, topic: `${prefix}.${input}` } },
                },
                target: expect.objectContaining({ type: 'AverageValue' }),
              }),
            }),
          ]);
        } else {
          const so = scaledObjects[0].spec;
          expect(so.scaleTargetRef.name).toBe(stage);
          expect({ stage, max: so.maxReplicaCount, partitions, fits: so.maxReplicaCount <= partitions }).toEqual({
            stage,
            max: so.maxReplicaCount,
            partitions,
            fits: true,
          });
          expect(so.minReplicaCount).toBeGreaterThanOrEqual(1);
          expect(so.minReplicaCount).toBeLessThanOrEqual(so.maxReplicaCount);
          expect(so.triggers).toHaveLength(1);
          const trigger = so.triggers[0];
          expect(trigger.type).toBe('kafka');
          // The trigger watches what the stage really consumes, on the brokers the services use.
          expect(trigger.metadata).toMatchObject({
            consumerGroup: config.KAFKA_GROUP_ID ?? group,
            topic: `${prefix}.${input}`,
            bootstrapServers: config.KAFKA_BROKERS,
          });
          expect(Number(trigger.metadata.lagThreshold)).toBeGreaterThan(0);
        }
      }
      if (dir === 'hpa-alternative') expect(find(objects, 'ScaledObject')).toEqual([]);
    });

    it('wires configuration and secrets so a pod fails fast only where a secret is really needed', () => {
      const config = configMap(objects);
      const configName = find(objects, 'ConfigMap')[0].metadata.name;
      for (const d of find(objects, 'Deployment').filter((x) => x.metadata.name !== 'kafka-exporter')) {
        const envFrom = d.spec.template.spec.containers[0].envFrom as {
          configMapRef?: { name: string };
          secretRef?: { name: string; optional?: boolean };
        }[];
        expect(envFrom.find((e) => e.configMapRef)?.configMapRef?.name).toBe(configName);
        const secret = envFrom.find((e) => e.secretRef)?.secretRef;
        expect(secret?.name).toBe('rag-stream-secrets');
        const needsKey = config.EMBEDDING_PROVIDER === 'openai' && ['gateway', 'embedder'].includes(d.metadata.name);
        expect({ deployment: d.metadata.name, optional: secret?.optional }).toEqual({ deployment: d.metadata.name, optional: !needsKey });
      }
      // No Secret with a placeholder value in the manifests: applying one would overwrite the real key.
      expect(find(objects, 'Secret')).toEqual([]);
      const jobEnvFrom = find(objects, 'Job', 'provision')[0].spec.template.spec.containers[0].envFrom;
      expect(jobEnvFrom[0].configMapRef.name).toBe(configName);
      // Provisioning talks to the registry and Elasticsearch too: their credentials, if any.
      expect(jobEnvFrom[1].secretRef).toEqual({ name: 'rag-stream-secrets', optional: true });
      if (dir !== 'overlays/dev') {
        const ingress = one(objects, 'Ingress', 'gateway');
        expect(ingress.spec.rules[0].http.paths[0].backend.service).toEqual({ name: 'gateway', port: { name: 'http' } });
        expect(one(objects, 'Service', 'gateway').spec.ports[0].name).toBe('http');
      }
    });
  });

  it('overlays/prod-kafka-sasl: every Kafka client authenticates with the SCRAM user and CA of one Secret', () => {
    const objects = render('overlays/prod-kafka-sasl');
    const config = configMap(objects);
    expect(config).toMatchObject({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'scram-sha-512' });
    const fromSecret = (
      container: { env?: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[] },
      name: string,
    ) => container.env?.find((e) => e.name === name)?.valueFrom?.secretKeyRef;
    for (const o of [...find(objects, 'Deployment'), ...find(objects, 'Job')]) {
      const pod = o.spec.template.spec;
      const container = pod.containers[0];
      const name = o.metadata.name;
      expect({
        name,
        username: fromSecret(container, 'KAFKA_SASL_USERNAME'),
        password: fromSecret(container, 'KAFKA_SASL_PASSWORD'),
      }).toEqual({
        name,
        username: { name: 'rag-stream-kafka', key: 'username' },
        password: { name: 'rag-stream-kafka', key: 'password' },
      });
      // The CA file the config names (or the exporter's flag) is mounted from the same Secret.
      const caFile =
        name === 'kafka-exporter'
          ? (container.args as string[]).find((a) => a.startsWith('--tls.ca-file='))!.split('=')[1]
          : config.KAFKA_SSL_CA_FILE;
      const mount = (container.volumeMounts as { name: string; mountPath: string }[]).find((m) => caFile.startsWith(`${m.mountPath}/`));
      const volume = (pod.volumes as { name: string; secret?: { secretName: string } }[]).find((v) => v.name === mount?.name);
      expect({ name, caFrom: volume?.secret?.secretName }).toEqual({ name, caFrom: 'rag-stream-kafka' });
    }
    expect(one(objects, 'Deployment', 'kafka-exporter').spec.template.spec.containers[0].args).toEqual(
      expect.arrayContaining([
        '--sasl.enabled',
        '--sasl.mechanism=scram-sha512',
        '--sasl.password=$(KAFKA_SASL_PASSWORD)',
        '--tls.enabled',
      ]),
    );
    const auth = one(objects, 'TriggerAuthentication', 'kafka-sasl');
    expect(auth.spec.secretTargetRef.map((r: { parameter: string; name: string }) => `${r.parameter}<-${r.name}`).sort()).toEqual([
      'ca<-rag-stream-kafka',
      'password<-rag-stream-kafka',
      'username<-rag-stream-kafka',
    ]);
    for (const scaled of find(objects, 'ScaledObject')) {
      expect({ name: scaled.metadata.name, trigger: scaled.spec.triggers[0] }).toMatchObject({
        name: scaled.metadata.name,
        trigger: { authenticationRef: { name: 'kafka-sasl' }, metadata: { sasl: 'scram_sha512', tls: 'enable' } },
      });
    }
  });
});

describe('deploy/k8s/hpa-alternative/prometheus-adapter-values.yaml', () => {
  it('serves the external metric the HPAs ask for', () => {
    const values = parse(readFileSync(join(K8S, 'hpa-alternative', 'prometheus-adapter-values.yaml'), 'utf8')) as {
      rules: {
        external: {
          seriesQuery: string;
          name: { as: string };
          metricsQuery: string;
          resources: { overrides: Record<string, { resource: string }> };
        }[];
      };
    };
    const hpaMetrics = new Set(
      find(render('hpa-alternative'), 'HorizontalPodAutoscaler').map((h) => h.spec.metrics[0].external.metric.name as string),
    );
    const served = values.rules.external.map((r) => r.name.as);
    for (const metric of hpaMetrics) expect(served).toContain(metric);
    for (const rule of values.rules.external) {
      expect(rule.seriesQuery).toContain(rule.name.as);
      expect(rule.metricsQuery).toContain('<<.Series>>');
      expect(rule.resources.overrides.namespace).toEqual({ resource: 'namespace' });
    }
  });
});
