export * from './index-template';
export * from './chunk-document';
