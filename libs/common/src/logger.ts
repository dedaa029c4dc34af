import pino, { type Logger } from 'pino';

/** One JSON logger per process; Nest, HTTP and kafkajs logs all go through it. */
export function createRootLogger(service: string, level: string): Logger {
  return pino({
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
