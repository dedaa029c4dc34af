export * from './provider';
export * from './hashing-provider';
export * from './openai-provider';
export * from './embedding-metrics';
export * from './create-provider';
export * from './tokenizer';
export * from './embedding.module';
