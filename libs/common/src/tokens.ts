/** DI tokens shared by every service. */
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');
export const KAFKA = Symbol('KAFKA');
export const CONTRACT_SERDE = Symbol('CONTRACT_SERDE');
export const TOPICS = Symbol('TOPICS');
export const ELASTICSEARCH = Symbol('ELASTICSEARCH');
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
export const LIVENESS_PROBES = Symbol('LIVENESS_PROBES');
