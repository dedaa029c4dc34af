import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Metrics of the registry projector (lifecycle events → document registry, chunk deletes). */
export class RegistryMetrics {
  readonly events: Counter<'type'>;
  readonly undecodable: Counter;
  readonly failures: Counter;
  readonly chunksDeleted: Counter<'reason'>;
  readonly batchSeconds: Histogram;
  readonly lag: Gauge<'topic' | 'partition'>;
  readonly consumerStalls: Counter;
  readonly consumerRebuilds: Counter;

  constructor(registry: Registry) {
    this.events = new Counter({
      name: 'rag_registry_events_total',
      help: 'Lifecycle events folded into the document registry, by type.',
      labelNames: ['type'],
      registers: [registry],
    });
    this.undecodable = new Counter({
      name: 'rag_registry_undecodable_events_total',
      help: 'Lifecycle events skipped because they did not decode.',
      registers: [registry],
    });
    this.failures = new Counter({
      name: 'rag_registry_projection_failures_total',
      help: 'Batches whose projection failed (Elasticsearch unavailable, write conflicts) and were retried in place.',
      registers: [registry],
    });
    this.chunksDeleted = new Counter({
      name: 'rag_registry_chunks_deleted_total',
      help: 'Chunks removed from the index: superseded (a newer version is searchable), deleted (tombstone), stale (late writes of old versions).',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.batchSeconds = new Histogram({
      name: 'rag_registry_batch_duration_seconds',
      help: 'Time to project one batch of lifecycle events (fold, chunk deletes, registry write).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.lag = new Gauge({
      name: 'rag_registry_consumer_lag',
      help: "Lifecycle events between the projector group's committed offset and the high watermark, per partition: how far statuses trail the pipeline.",
      labelNames: ['topic', 'partition'],
      registers: [registry],
    });
    this.consumerStalls = new Counter({
      name: 'rag_registry_consumer_stalls_total',
      help: "Times the watchdog found the projector's consumer stuck (events waiting, nothing consumed for STAGE_STALL_TIMEOUT_MS) and rebuilt it.",
      registers: [registry],
    });
    this.consumerRebuilds = new Counter({
      name: 'rag_registry_consumer_rebuilds_total',
      help: 'Times the projector rebuilt its consumer after a crash kafkajs would not restart from, or a stall.',
      registers: [registry],
    });
  }
}
