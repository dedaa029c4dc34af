export * from './index-template';
export * from './chunk-document';
export * from './chunk-deletes';
