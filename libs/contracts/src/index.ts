export * from './types';
export * from './pipeline';
export * from './topics';
export * from './headers';
export * from './schemas';
export * from './serde';
export * from './ids';
export * from './events';
