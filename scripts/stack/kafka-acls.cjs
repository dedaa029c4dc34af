#!/usr/bin/env node
/*
 * The secured stack's ACLs (STACK_SECURE=1), created by scripts/stack/stack.sh as `admin`:
 * user `rag` (the services) may do anything with topics prefixed KAFKA_ACL_TOPIC_PREFIX and
 * consumer groups prefixed `rag-`, and nothing else. Creating an existing ACL is a no-op.
 */
'use strict';

const { readFileSync } = require('node:fs');
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes } = require('kafkajs');

const env = process.env;
const kafka = new Kafka({
  clientId: 'stack-acls',
  brokers: env.KAFKA_ACL_BROKERS.split(','),
  logLevel: logLevel.NOTHING,
  ssl: { ca: [readFileSync(env.KAFKA_ACL_CA_FILE, 'utf8')] },
  sasl: { mechanism: 'scram-sha-512', username: 'admin', password: env.KAFKA_ACL_ADMIN_PASSWORD },
});
const allow = (resourceType, resourceName) => ({
  resourceType,
  resourceName,
  resourcePatternType: ResourcePatternTypes.PREFIXED,
  principal: 'User:rag',
  host: '*',
  operation: AclOperationTypes.ALL,
  permissionType: AclPermissionTypes.ALLOW,
});

(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createAcls({ acl: [allow(AclResourceTypes.TOPIC, env.KAFKA_ACL_TOPIC_PREFIX), allow(AclResourceTypes.GROUP, 'rag-')] });
  await admin.disconnect();
  process.stdout.write(`kafka: ACLs for rag: topics ${env.KAFKA_ACL_TOPIC_PREFIX}*, groups rag-*\n`);
})().catch((err) => {
  process.stderr.write(`kafka-acls: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
