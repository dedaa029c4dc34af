export * from './dead-letter-reader';
export * from './dead-letters';
