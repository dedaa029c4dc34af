export * from './pipeline-insight';
