export * from './document-record';
export * from './fold';
export * from './registry-index';
export * from './document-registry';
export * from './status-view';
