export * from './provider';
export * from './hashing-provider';
export * from './openai-provider';
export * from './embedding-metrics';
export * from './create-provider';
export * from './embedding.module';
