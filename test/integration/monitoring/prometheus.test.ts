import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { seededRandom, textDocument } from '@rag/testkit';
import { FakeOpenAIServer } from '@rag/testkit';
import { KafkaExporter } from '../../support/kafka-exporter';
import { scrape, sumMetric } from '@rag/testkit';
import { uniqueSuffix } from '@rag/testkit';
import { Pipeline } from '../../support/pipeline';
import {
  ALERT_RULES,
  DASHBOARD,
  MONITORING,
  PROMETHEUS_CONFIG,
  PROMETHEUS_K8S_CONFIG,
  PrometheusServer,
  promtool,
  requirePrometheus,
  ROOT,
} from '../../support/prometheus';
import { describeWithTool } from '../../support/tools';
import { waitFor } from '@rag/testkit';

/**
 * The monitoring files in deploy/monitoring against a real Prometheus (Debian's package) scraping
 * a real pipeline: the config and rules pass promtool, and every PromQL expression of the Grafana
 * dashboard and of the alert rules returns data. The pipeline is driven through every path the
 * expressions look at: documents indexed, an embedding request failing (fake OpenAI server, so
 * the openai-only metrics exist), Elasticsearch rejecting bulk items, a poison record dead-lettered.
 */

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos?: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; legendFormat?: string; datasource?: { uid: string } }[];
  panels?: Panel[];
}

interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown; definition?: string; allValue?: string; includeAll?: boolean }[] };
}

const rules = (): Rule[] => (parse(readFileSync(ALERT_RULES, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const dashboard = (): Dashboard => JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const allPanels = (d: Dashboard): Panel[] => d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);

/** Dashboard variables as Grafana would expand them for "All" over a range of a few minutes. */
function expandVariables(expr: string, d: Dashboard): string {
  let out = expr
    .replace(/\$__rate_interval|\$\{__rate_interval\}/g, '1m')
    .replace(/\$__interval|\$\{__interval\}/g, '2s')
    .replace(/\$__range|\$\{__range\}/g, '5m');
  for (const v of d.templating.list) {
    if (v.type === 'datasource') continue;
    out = out.replace(new RegExp(`\\$\\{${v.name}(?::\\w+)?\\}|\\$${v.name}\\b`, 'g'), v.allValue ?? '.*');
  }
  if (/\$\w/.test(out)) throw new Error(`unexpanded variable in ${out}`);
  return out;
}

/**
 * An alert's expression is a condition: empty while the system is healthy. What the test
 * evaluates instead is the data beneath it: every comparison with a number (`> 1000`, `== 0`)
 * is removed, and `absent(x)` (true when x is missing) becomes `(x)`. alerts.yml keeps its
 * conditions in that form for this reason.
 */
function dataBeneathAlert(expr: string): string {
  return expr
    .replace(/\s*(?:==|!=|>=|<=|>|<)\s*-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w.])/g, '')
    .replace(/\babsent\(/g, '(')
    .trim();
}

describeWithTool('prometheus', 'deploy/monitoring: static checks', () => {
  beforeAll(() => requirePrometheus());

  it('promtool accepts the compose config and the alert rules', () => {
    const rulesCheck = promtool('check', 'rules', ALERT_RULES);
    expect({ ok: rulesCheck.ok, output: rulesCheck.output }).toEqual({ ok: true, output: expect.stringContaining('SUCCESS') });
    const configCheck = promtool('check', 'config', PROMETHEUS_CONFIG);
    expect({ ok: configCheck.ok, output: configCheck.output }).toEqual({ ok: true, output: expect.stringContaining('SUCCESS') });
  });

  it('fires every alert on its condition, after its `for`, with its labels and text, and none on a healthy pipeline (promtool test rules)', () => {
    const unit = promtool('test', 'rules', join(MONITORING, 'prometheus', 'alerts.test.yml'));
    expect({ ok: unit.ok, output: unit.output }).toEqual({ ok: true, output: expect.stringContaining('SUCCESS') });
    // Every alert has a firing case there.
    const tests = parse(readFileSync(join(MONITORING, 'prometheus', 'alerts.test.yml'), 'utf8')) as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const firing = new Set(
      tests.tests.flatMap((t) => (t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)),
    );
    expect([...firing].sort()).toEqual(
      rules()
        .filter((r) => r.alert)
        .map((r) => r.alert)
        .sort(),
    );
  });

  it('promtool accepts the Kubernetes config (relabelling and rules; SD too where promtool has it)', () => {
    const direct = promtool('check', 'config', PROMETHEUS_K8S_CONFIG);
    if (direct.ok) return;
    // Debian builds Prometheus without Kubernetes service discovery ("field kubernetes_sd_configs
    // not found"): check everything else by swapping the SD block for an empty static list.
    expect(direct.output).toMatch(/kubernetes_sd_configs not found/);
    const config = parse(readFileSync(PROMETHEUS_K8S_CONFIG, 'utf8')) as {
      rule_files: string[];
      scrape_configs: Record<string, unknown>[];
    };
    for (const scrapeConfig of config.scrape_configs) {
      if (!scrapeConfig.kubernetes_sd_configs) continue;
      expect(scrapeConfig.kubernetes_sd_configs).toEqual([expect.objectContaining({ role: 'pod' })]);
      delete scrapeConfig.kubernetes_sd_configs;
      scrapeConfig.static_configs = [];
    }
    config.rule_files = [ALERT_RULES];
    const dir = mkdtempSync(join(tmpdir(), 'rag-prom-k8s-'));
    try {
      writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
      const check = promtool('check', 'config', join(dir, 'prometheus.yml'));
      expect({ ok: check.ok, output: check.output }).toEqual({ ok: true, output: expect.stringContaining('SUCCESS') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives every alert a severity and summary/description/runbook annotations pointing at a section of deploy/README.md', () => {
    const readme = readFileSync(`${ROOT}/deploy/README.md`, 'utf8');
    const anchors = new Set(
      [...readme.matchAll(/^#+\s+(.+)$/gm)].map((m) =>
        m[1]
          .trim()
          .toLowerCase()
          .replace(/[^\w\- ]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    const alerts = rules().filter((r) => r.alert);
    expect(alerts.length).toBeGreaterThanOrEqual(6);
    for (const rule of alerts) {
      const annotations = rule.annotations ?? {};
      expect({ alert: rule.alert, severity: rule.labels?.severity }).toEqual({
        alert: rule.alert,
        severity: expect.stringMatching(/^(warning|critical)$/),
      });
      expect({
        alert: rule.alert,
        summary: !!annotations.summary,
        description: !!annotations.description,
        runbook: annotations.runbook,
      }).toEqual({
        alert: rule.alert,
        summary: true,
        description: true,
        runbook: `deploy/README.md#${rule.alert!.toLowerCase()}`,
      });
      expect({ alert: rule.alert, anchorInReadme: anchors.has(rule.alert!.toLowerCase()) }).toEqual({
        alert: rule.alert,
        anchorInReadme: true,
      });
    }
    // The kinds of alert the issue asks for are all there.
    const exprs = alerts.map((r) => r.expr).join('\n');
    for (const needle of [
      'rag_stage_consumer_lag',
      'kafka_consumergroup_lag',
      'outcome="dead_lettered"',
      'up{job',
      'absent(',
      'histogram_quantile(0.99',
      'outcome=~"retried|dead_lettered"',
    ]) {
      expect(exprs).toContain(needle);
    }
  });

  it('is a well-formed Grafana dashboard: unique ids, grid positions, $datasource everywhere, variables', () => {
    const d = dashboard();
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(d.uid).toBe('rag-stream');
    const panels = allPanels(d);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    const names = d.templating.list.map((v) => v.name);
    expect(names).toEqual(expect.arrayContaining(['datasource', 'stage', 'service']));
    expect(d.templating.list.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const panel of panels) {
      expect(panel.gridPos).toEqual({ h: expect.any(Number), w: expect.any(Number), x: expect.any(Number), y: expect.any(Number) });
      expect(panel.gridPos!.x + panel.gridPos!.w).toBeLessThanOrEqual(24);
      if (panel.type === 'row') continue;
      expect({ title: panel.title, type: panel.type }).toEqual({ title: panel.title, type: 'timeseries' });
      expect(panel.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets?.length).toBeGreaterThan(0);
      for (const target of panel.targets!) {
        expect(target.datasource).toMatchObject({ uid: '${datasource}' });
        expect(target.expr.length).toBeGreaterThan(0);
      }
      expect(new Set(panel.targets!.map((t) => t.refId)).size).toBe(panel.targets!.length);
    }
    // Panels do not overlap.
    const cells = new Set<string>();
    for (const { gridPos: g, title } of panels) {
      for (let x = g!.x; x < g!.x + g!.w; x++) {
        for (let y = g!.y; y < g!.y + g!.h; y++) {
          expect({ title, free: !cells.has(`${x},${y}`) }).toEqual({ title, free: true });
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it('strips alert thresholds the way the live test relies on', () => {
    expect(dataBeneathAlert('sum by (stage) (rate(x{outcome!="ok"}[5m])) > 0')).toBe('sum by (stage) (rate(x{outcome!="ok"}[5m]))');
    expect(dataBeneathAlert('a / b\n> 0.05')).toBe('a / b');
    expect(dataBeneathAlert('up{job="a"} == 0\nor\nabsent(up{job="a"})')).toBe('up{job="a"}\nor\n(up{job="a"})');
    expect(dataBeneathAlert('histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m]))) > 30')).toBe(
      'histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))',
    );
  });
});

describeWithTool('prometheus', 'deploy/monitoring: every dashboard and alert expression has data from a real pipeline', () => {
  const random = seededRandom(7);
  let fake: FakeOpenAIServer;
  let pipeline: Pipeline;
  let exporter: KafkaExporter;
  let prometheus: PrometheusServer;
  let indexBlocked = false;

  const submit = (id: string) =>
    pipeline.produceDocument({
      documentId: id,
      version: 1,
      title: id,
      contentType: 'text/plain',
      content: Buffer.from(textDocument(random, 2_500, `phrase ${id}`)),
      source: 'monitoring-test',
      metadata: {},
      submittedAt: Date.now(),
    });

  beforeAll(async () => {
    requirePrometheus();
    fake = await FakeOpenAIServer.start();
    const id = uniqueSuffix();
    pipeline = new Pipeline({
      partitions: 2,
      // Short retry tiers: the scripted failures below are retried within seconds.
      env: { RETRY_TIERS_MS: '200,1000' },
      // Consumer groups of this run only (the default rag-<stage> is shared with any other pipeline
      // on the same broker); still matched by the alerts' consumergroup=~"rag-(chunker|...).*".
      serviceEnv: {
        chunker: { KAFKA_GROUP_ID: `rag-chunker-${id}` },
        // The openai provider (against the fake server) is the one that reports tokens and inputs per request.
        embedder: {
          KAFKA_GROUP_ID: `rag-embedder-${id}`,
          EMBEDDING_PROVIDER: 'openai',
          OPENAI_API_KEY: 'x',
          OPENAI_BASE_URL: fake.baseURL,
          OPENAI_MAX_RETRIES: '0',
        },
        indexer: { KAFKA_GROUP_ID: `rag-indexer-${id}` },
      },
    });
    await pipeline.start();
    exporter = await KafkaExporter.start({
      topicFilter: `^${pipeline.prefix.replace(/\W/g, '\\$&')}\\.`,
    });
    const target = (name: 'gateway' | 'chunker' | 'embedder' | 'indexer') => [`127.0.0.1:${pipeline.service(name).port}`];
    prometheus = await PrometheusServer.start({
      gateway: target('gateway'),
      chunker: target('chunker'),
      embedder: target('embedder'),
      indexer: target('indexer'),
      'kafka-exporter': [exporter.target],
    });
    console.log(`monitoring test: Prometheus on ${prometheus.url}, consumer-group metrics from ${exporter.kind}`);
  });

  afterAll(async () => {
    if (indexBlocked)
      await pipeline?.es.indices
        .putSettings({ index: pipeline.alias, settings: { 'index.blocks.read_only_allow_delete': null } })
        .catch(() => undefined);
    await prometheus?.stop();
    await exporter?.stop();
    await pipeline?.stop();
    await fake?.close();
  });

  it('drives the pipeline through success, retries and dead letters, then finds data for every expression', async () => {
    // 1. Documents through both entry points.
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${pipeline.gatewayUrl}/v1/documents`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ text: textDocument(random, 4_000, `upload ${i}`), documentId: `up-${pipeline.id}-${i}` }),
      });
      expect(res.status).toBe(202);
      ids.push(`up-${pipeline.id}-${i}`);
    }
    for (let i = 0; i < 3; i++) {
      await submit(`kafka-${pipeline.id}-${i}`);
      ids.push(`kafka-${pipeline.id}-${i}`);
    }
    await pipeline.waitForStatus(ids, 'indexed', 120_000);

    // 2. The embedding provider answers 500 once: the request fails (no SDK retries configured),
    //    the records go to the embedder's retry topic and succeed on the next attempt.
    fake.failNext(1, { status: 500 });
    await submit(`provider-error-${pipeline.id}`);
    await waitFor(
      'an embedding request failing with 500',
      async () => sumMetric(await scrape(pipeline.service('embedder').url), 'rag_embedding_requests_total', { outcome: '500' }) > 0,
      60_000,
    );
    await pipeline.waitForStatus([`provider-error-${pipeline.id}`], 'indexed', 60_000);

    // 3. Elasticsearch rejects the items of a bulk request (429, read-only-allow-delete block):
    //    bulk item errors, retried by the indexer until the block is lifted.
    await pipeline.es.indices.putSettings({ index: pipeline.alias, settings: { 'index.blocks.read_only_allow_delete': true } });
    indexBlocked = true;
    await submit(`es-blocked-${pipeline.id}`);
    await waitFor(
      'bulk item errors',
      async () => sumMetric(await scrape(pipeline.service('indexer').url), 'rag_elasticsearch_bulk_item_errors_total') > 0,
      60_000,
    );
    await pipeline.es.indices.putSettings({ index: pipeline.alias, settings: { 'index.blocks.read_only_allow_delete': null } });
    indexBlocked = false;
    await pipeline.waitForStatus([`es-blocked-${pipeline.id}`], 'indexed', 60_000);

    // 4. A poison record (not Avro) goes straight to the chunker's DLQ.
    await pipeline.produceRaw(pipeline.topics.documents, `poison-${pipeline.id}`, Buffer.from('definitely not avro'));
    await waitFor(
      'a dead letter',
      async () => sumMetric(await scrape(pipeline.service('chunker').url), 'rag_stage_records_total', { outcome: 'dead_lettered' }) > 0,
      60_000,
    );

    // 5. Keep documents flowing while Prometheus scrapes every 2 s, so rates over the last
    //    minute are not zero, then wait until every expression has data.
    const trickleUntil = Date.now() + 24_000;
    let n = 0;
    while (Date.now() < trickleUntil) {
      await submit(`trickle-${pipeline.id}-${n++}`);
      await new Promise((r) => setTimeout(r, 1_500));
    }

    const d = dashboard();
    const expressions: { from: string; expr: string }[] = [];
    for (const panel of allPanels(d)) {
      for (const target of panel.targets ?? [])
        expressions.push({ from: `panel "${panel.title}" ${target.refId}`, expr: expandVariables(target.expr, d) });
    }
    for (const rule of rules()) {
      expressions.push({
        from: `${rule.alert ? 'alert' : 'rule'} ${rule.alert ?? rule.record}`,
        expr: rule.alert ? dataBeneathAlert(rule.expr) : rule.expr,
      });
    }

    const empty = async () => {
      const out: string[] = [];
      for (const { from, expr } of expressions) if ((await prometheus.query(expr)).length === 0) out.push(`${from}: ${expr}`);
      return out;
    };
    let stillEmpty: string[] = [];
    await waitFor('every expression to have data', async () => (stillEmpty = await empty()).length === 0, 60_000, 2_000).catch(
      () => undefined,
    );
    expect(stillEmpty).toEqual([]);

    // The dashboard's variables find their values.
    for (const v of d.templating.list.filter((t) => t.type === 'query')) {
      const m = /^label_values\((\w+),\s*(\w+)\)$/.exec(v.definition ?? '');
      expect({ variable: v.name, definition: v.definition, parsed: !!m }).toEqual({
        variable: v.name,
        definition: v.definition,
        parsed: true,
      });
      expect({ variable: v.name, values: (await prometheus.labelValues(m![2], m![1])).length > 0 }).toEqual({
        variable: v.name,
        values: true,
      });
    }

    // Figures for the report: how many expressions give numbers (not NaN) right now.
    let withNumbers = 0;
    for (const { expr } of expressions)
      if ((await prometheus.query(expr)).some((s) => Number.isFinite(Number(s.value[1])))) withNumbers += 1;
    console.log(
      `monitoring test: ${expressions.length} expressions evaluated, all with data, ${withNumbers} with finite values; ${n} trickle documents`,
    );
  });

  it('scrapes every target and evaluates every rule without error', async () => {
    const targets = await prometheus.targets();
    const jobs = new Map(targets.map((t) => [t.labels.job, `${t.health} ${t.lastError}`.trim()]));
    expect(Object.fromEntries(jobs)).toEqual({ gateway: 'up', chunker: 'up', embedder: 'up', indexer: 'up', 'kafka-exporter': 'up' });
    const loaded = await prometheus.rules();
    expect(loaded.map((r) => r.name).sort()).toEqual(
      rules()
        .map((r) => r.alert ?? r.record)
        .sort(),
    );
    for (const rule of loaded)
      expect({ rule: rule.name, health: rule.health, error: rule.lastError ?? '' }).toEqual({ rule: rule.name, health: 'ok', error: '' });
  });
});
