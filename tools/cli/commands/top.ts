import { CONSUMER_STAGES, type ConsumerStage } from '@rag/contracts';
import { PipelineInsight, stageRates, type PipelineSnapshot } from '@rag/pipeline-insight';
import Table from 'cli-table3';
import { KafkaContext, type GlobalOptions } from '../context';
import { colors, printJson } from '../output';

export interface TopOptions extends GlobalOptions {
  interval: number;
  /** Stop after this many refreshes (0 = until Ctrl-C). */
  iterations: number;
  group: string[];
}

/** `--group embedder=my-group` overrides; default rag-<stage>. */
function groups(overrides: string[]): Record<ConsumerStage, string> {
  const result = Object.fromEntries(CONSUMER_STAGES.map((s) => [s, `rag-${s}`])) as Record<ConsumerStage, string>;
  for (const entry of overrides) {
    const [stage, group] = entry.split('=');
    if (!(CONSUMER_STAGES as string[]).includes(stage) || !group) throw new Error(`--group wants <stage>=<group>, got "${entry}"`);
    result[stage as ConsumerStage] = group;
  }
  return result;
}

function render(previous: PipelineSnapshot, current: PipelineSnapshot): string {
  const rates = stageRates(previous, current);
  const table = new Table({
    head: ['stage', 'instances', 'state', 'lag', 'records/s', 'retries/s', 'dead letters/s', 'in DLQ'].map((h) => colors.bold(h)),
    style: { head: [], border: [] },
  });
  for (const stage of current.stages) {
    const rate = rates.find((r) => r.stage === stage.stage);
    table.push([
      stage.stage,
      stage.instances === 0 ? colors.red('0') : String(stage.instances),
      stage.state,
      stage.lag > 0 ? colors.yellow(String(stage.lag)) : '0',
      (rate?.recordsPerSecond ?? 0).toFixed(1),
      (rate?.retriesPerSecond ?? 0).toFixed(1),
      (rate?.deadLettersPerSecond ?? 0).toFixed(1),
      stage.deadLetters > 0 ? colors.red(String(stage.deadLetters)) : '0',
    ]);
  }
  return `rag-stream top — ${new Date(current.at).toISOString()} — documents submitted: ${current.submitted}\n${table.toString()}\n`;
}

/** Live per-stage instances, lag and rates, from Kafka (group membership, offsets), refreshed in place. */
export async function top(options: TopOptions): Promise<number> {
  const context = new KafkaContext(options);
  const insight = new PipelineInsight(context.kafka, context.topics, groups(options.group));
  let stop = false;
  process.once('SIGINT', () => (stop = true));
  try {
    let previous = await insight.snapshot();
    for (let i = 0; !stop && (options.iterations === 0 || i < options.iterations); i++) {
      await new Promise((r) => setTimeout(r, options.interval * 1000));
      const current = await insight.snapshot();
      if (options.json) printJson({ ...current, rates: stageRates(previous, current) });
      else if (process.stdout.isTTY) process.stdout.write(`\x1b[H\x1b[2J${render(previous, current)}`);
      else process.stdout.write(render(previous, current));
      previous = current;
    }
  } finally {
    await insight.close();
  }
  return 0;
}
