import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Metrics every consumer stage exports. Labels stay bounded: stage, topic, partition, outcome. */
export class StageMetrics {
  readonly records: Counter<'stage' | 'source' | 'outcome'>;
  readonly batchRecords: Histogram<'stage'>;
  readonly handlerSeconds: Histogram<'stage'>;
  readonly batchSeconds: Histogram<'stage'>;
  readonly lag: Gauge<'stage' | 'topic' | 'partition'>;
  readonly endToEndSeconds: Histogram<'stage'>;
  readonly groupJoins: Counter<'stage'>;
  readonly consumerRebuilds: Counter<'stage'>;
  readonly consumerStalls: Counter<'stage'>;

  constructor(registry: Registry) {
    this.records = new Counter({
      name: 'rag_stage_records_total',
      help: 'Records consumed by a stage, by source topic kind (main|retry) and outcome (ok|retried|dead_lettered).',
      labelNames: ['stage', 'source', 'outcome'],
      registers: [registry],
    });
    this.batchRecords = new Histogram({
      name: 'rag_stage_batch_records',
      help: 'Records per handled slice of a consumed batch.',
      labelNames: ['stage'],
      buckets: [1, 2, 5, 10, 25, 50, 100, 200, 500, 1000],
      registers: [registry],
    });
    this.handlerSeconds = new Histogram({
      name: 'rag_stage_handler_duration_seconds',
      help: 'Time the stage handler took for one slice.',
      labelNames: ['stage'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    this.batchSeconds = new Histogram({
      name: 'rag_stage_batch_duration_seconds',
      help: 'Time for one slice end to end: decode, handle, produce (acks=all), commit.',
      labelNames: ['stage'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    this.lag = new Gauge({
      name: 'rag_stage_consumer_lag',
      help: 'Records between the committed offset and the high watermark, per input partition.',
      labelNames: ['stage', 'topic', 'partition'],
      registers: [registry],
    });
    this.endToEndSeconds = new Histogram({
      name: 'rag_end_to_end_latency_seconds',
      help: 'From document submission to the record leaving this stage.',
      labelNames: ['stage'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300],
      registers: [registry],
    });
    this.groupJoins = new Counter({
      name: 'rag_stage_group_joins_total',
      help: 'Times this instance (re)joined its consumer group: one at start, one more per rebalance it took part in.',
      labelNames: ['stage'],
      registers: [registry],
    });
    this.consumerStalls = new Counter({
      name: 'rag_stage_consumer_stalls_total',
      help: 'Times the watchdog found the consumer stuck (input lagging, nothing consumed for STAGE_STALL_TIMEOUT_MS) and rebuilt it.',
      labelNames: ['stage'],
      registers: [registry],
    });
    this.consumerRebuilds = new Counter({
      name: 'rag_stage_consumer_rebuilds_total',
      help: 'Times the runtime rebuilt its consumer and producer after kafkajs gave up on a crash it would not restart from.',
      labelNames: ['stage'],
      registers: [registry],
    });
  }
}
