#!/usr/bin/env node
/*
 * Readiness probe for the local Kafka broker, used by scripts/stack/stack.sh.
 *
 * An open TCP port is not enough: a KRaft broker accepts connections before it has
 * registered with its controller and can serve metadata. This asks for real metadata
 * (describeCluster + listTopics) with kafkajs from the repo's node_modules, so "healthy"
 * means a client can actually work against it.
 *
 * Usage: node kafka-ready.cjs [host:port]    exit 0 = ready, 1 = not ready (reason on stderr)
 * A secured broker (STACK_SECURE=1): KAFKA_READY_SASL_USERNAME / _PASSWORD (SCRAM-SHA-512)
 * and KAFKA_READY_CA_FILE (TLS with that CA).
 */
'use strict';

const { readFileSync } = require('node:fs');
const { Kafka, logLevel } = require('kafkajs');

const env = process.env;
const security = env.KAFKA_READY_SASL_USERNAME
  ? {
      ssl: { ca: [readFileSync(env.KAFKA_READY_CA_FILE, 'utf8')] },
      sasl: { mechanism: 'scram-sha-512', username: env.KAFKA_READY_SASL_USERNAME, password: env.KAFKA_READY_SASL_PASSWORD },
    }
  : {};

const broker = process.argv[2] || '127.0.0.1:9092';
const kafka = new Kafka({
  clientId: 'stack-ready-probe',
  brokers: [broker],
  logLevel: logLevel.NOTHING,
  connectionTimeout: 2000,
  requestTimeout: 5000,
  retry: { retries: 0 },
  ...security,
});
const admin = kafka.admin();

// Never hang the caller's polling loop.
const timer = setTimeout(() => {
  process.stderr.write(`kafka-ready: timed out talking to ${broker}\n`);
  process.exit(1);
}, 8000);

(async () => {
  await admin.connect();
  const cluster = await admin.describeCluster();
  if (!cluster.brokers || cluster.brokers.length === 0) throw new Error('no broker registered yet');
  await admin.listTopics();
  await admin.disconnect();
  clearTimeout(timer);
  process.stdout.write(`kafka-ready: cluster ${cluster.clusterId}, ${cluster.brokers.length} broker(s)\n`);
  process.exit(0);
})().catch((err) => {
  process.stderr.write(`kafka-ready: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
