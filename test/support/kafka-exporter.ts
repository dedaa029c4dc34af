import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { STACK } from '@rag/testkit';
import { freePort, waitFor } from '@rag/testkit';

const ROOT = join(__dirname, '..', '..');

/** Where a real kafka_exporter binary is looked for: $KAFKA_EXPORTER_BIN, then .stack/bin. */
export function kafkaExporterBinary(): string | undefined {
  const candidates = [process.env.KAFKA_EXPORTER_BIN, join(ROOT, '.stack', 'bin', 'kafka_exporter')];
  return candidates.find((path): path is string => !!path && existsSync(path));
}

export interface KafkaExporterOptions {
  /** Regex of the topics to report (kafka_exporter's --topic.filter). */
  topicFilter: string;
  /** Regex of consumer groups to leave out (--group.exclude). */
  groupExclude?: string;
}

/**
 * kafka_exporter for tests, on a free loopback port: the real danielqsj/kafka_exporter when a
 * binary is available (see kafkaExporterBinary), otherwise a stand-in that serves the metric
 * families of kafka_exporter v1.9.0 our dashboard and alerts use, with the same names, labels and
 * quirks (lag -1 on a partition without a committed offset; lag_sum leaves those out; topics a
 * group never committed on are skipped), computed from the real broker on every scrape.
 */
export class KafkaExporter {
  private child?: ChildProcess;
  private server?: Server;
  private admin?: Admin;

  private constructor(
    readonly port: number,
    readonly kind: 'kafka_exporter' | 'stand-in',
  ) {}

  get target(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(options: KafkaExporterOptions): Promise<KafkaExporter> {
    const port = await freePort();
    const binary = kafkaExporterBinary();
    const exporter = new KafkaExporter(port, binary ? 'kafka_exporter' : 'stand-in');
    if (binary) {
      const args = STACK.brokers.map((b) => `--kafka.server=${b}`);
      args.push(`--web.listen-address=127.0.0.1:${port}`, `--topic.filter=${options.topicFilter}`);
      if (options.groupExclude) args.push(`--group.exclude=${options.groupExclude}`);
      exporter.child = spawn(binary, args, { stdio: 'ignore' });
    } else {
      await exporter.serveStandIn(options);
    }
    await waitFor('kafka exporter /healthz', async () => (await fetch(`http://${exporter.target}/healthz`)).ok, 30_000);
    return exporter;
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child!.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    if (this.server) await new Promise((resolve) => this.server!.close(resolve));
    await this.admin?.disconnect();
  }

  private async serveStandIn(options: KafkaExporterOptions): Promise<void> {
    const kafka = new Kafka({ clientId: 'kafka-exporter-stand-in', brokers: STACK.brokers, logLevel: logLevel.NOTHING });
    this.admin = kafka.admin();
    await this.admin.connect();
    const admin = this.admin;
    const topicFilter = new RegExp(options.topicFilter);
    const groupExclude = options.groupExclude ? new RegExp(options.groupExclude) : undefined;
    this.server = createServer((req, res) => {
      if (req.url === '/healthz') {
        res.end('ok');
        return;
      }
      standInExposition(admin, topicFilter, groupExclude).then(
        (body) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }
}

async function standInExposition(admin: Admin, topicFilter: RegExp, groupExclude?: RegExp): Promise<string> {
  const lines = new Map<string, string[]>();
  const gauge = (name: string, labels: Record<string, string>, value: number) => {
    const text = Object.entries(labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(',');
    if (!lines.has(name)) lines.set(name, [`# TYPE ${name} gauge`]);
    lines.get(name)!.push(`${name}{${text}} ${value}`);
  };
  const topics = (await admin.listTopics()).filter((t) => topicFilter.test(t));
  const highWatermarks = new Map<string, Map<number, number>>();
  for (const topic of topics) {
    const offsets = await admin.fetchTopicOffsets(topic);
    highWatermarks.set(topic, new Map(offsets.map((o) => [o.partition, Number(o.high)])));
    gauge('kafka_topic_partitions', { topic }, offsets.length);
    for (const o of offsets) gauge('kafka_topic_partition_current_offset', { topic, partition: String(o.partition) }, Number(o.high));
  }
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => !groupExclude?.test(g));
  const described = groups.length > 0 ? (await admin.describeGroups(groups)).groups : [];
  for (const group of described) {
    gauge('kafka_consumergroup_members', { consumergroup: group.groupId }, group.members.length);
    if (topics.length === 0) continue;
    for (const { topic, partitions } of await admin.fetchOffsets({ groupId: group.groupId, topics })) {
      if (partitions.every((p) => Number(p.offset) === -1)) continue;
      let lagSum = 0;
      let offsetSum = 0;
      for (const { partition, offset } of partitions) {
        const committed = Number(offset);
        const high = highWatermarks.get(topic)?.get(partition) ?? 0;
        const lag = committed === -1 ? -1 : high - committed;
        if (committed !== -1) lagSum += lag;
        offsetSum += committed;
        const labels = { consumergroup: group.groupId, topic, partition: String(partition) };
        gauge('kafka_consumergroup_current_offset', labels, committed);
        gauge('kafka_consumergroup_lag', labels, lag);
      }
      gauge('kafka_consumergroup_current_offset_sum', { consumergroup: group.groupId, topic }, offsetSum);
      gauge('kafka_consumergroup_lag_sum', { consumergroup: group.groupId, topic }, lagSum);
    }
  }
  return [...lines.values()].flat().join('\n') + '\n';
}
