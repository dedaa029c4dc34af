import { type Provider } from '@nestjs/common';
import { CONTRACT_SERDE, KAFKA, SERVICE_CONFIG, TOPICS } from '@rag/common';
import { CONSUMER_STAGES, type ConsumerStage, type ContractSerde, type TopicNames } from '@rag/contracts';
import { DeadLetters } from '@rag/dead-letters';
import { PipelineInsight } from '@rag/pipeline-insight';
import type { Kafka } from 'kafkajs';
import type { GatewayConfig } from '../gateway.config';

export const DEAD_LETTERS = Symbol('DEAD_LETTERS');
export const PIPELINE_INSIGHT = Symbol('PIPELINE_INSIGHT');

/** `chunker=g1,embedder=g2` over the defaults `rag-<stage>`. */
export function stageGroups(spec: string): Record<ConsumerStage, string> {
  const groups = Object.fromEntries(CONSUMER_STAGES.map((s) => [s, `rag-${s}`])) as Record<ConsumerStage, string>;
  for (const entry of spec.split(',').filter(Boolean)) {
    const [stage, group] = entry.split('=').map((p) => p.trim());
    if ((CONSUMER_STAGES as string[]).includes(stage) && group) groups[stage as ConsumerStage] = group;
  }
  return groups;
}

export const adminProviders: Provider[] = [
  {
    provide: DEAD_LETTERS,
    inject: [KAFKA, TOPICS, CONTRACT_SERDE, SERVICE_CONFIG],
    useFactory: (kafka: Kafka, topics: TopicNames, serde: ContractSerde, cfg: GatewayConfig) =>
      new DeadLetters(kafka, topics, serde, cfg.TOPIC_PREFIX),
  },
  {
    provide: PIPELINE_INSIGHT,
    inject: [KAFKA, TOPICS, SERVICE_CONFIG],
    useFactory: (kafka: Kafka, topics: TopicNames, cfg: GatewayConfig) =>
      new PipelineInsight(kafka, topics, stageGroups(cfg.PIPELINE_GROUPS)),
  },
];
