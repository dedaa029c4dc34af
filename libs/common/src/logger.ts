import pino, { type Logger } from 'pino';

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
];

/** One JSON logger per process; Nest, HTTP and kafkajs logs all go through it. */
export function createRootLogger(service: string, level: string): Logger {
  return pino({
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Credentials never reach a log line: API keys, cookies, basic-auth headers of any request logged.
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  });
}
