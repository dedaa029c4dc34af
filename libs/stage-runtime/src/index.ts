export { TransientError, PermanentError, StageError, classifyError, errorMessage, type ErrorKind } from '@rag/common';
export * from './retry-policy';
export * from './failure-headers';
export * from './types';
export * from './stage-metrics';
export * from './stage-runner';
export * from './stage-runtime.module';
export * from './lag-monitor';
export * from './produce-requests';
