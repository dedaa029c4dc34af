import type { Agent } from 'node:https';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro, { type Type } from 'avsc';
import { loadSchema, type ContractName } from './schemas';
import { valueSubject } from './topics';
import type { Chunk, DocumentEvent, DocumentSubmitted, EmbeddedChunk } from './types';

export interface ContractTypes {
  DocumentSubmitted: DocumentSubmitted;
  Chunk: Chunk;
  EmbeddedChunk: EmbeddedChunk;
  DocumentEvent: DocumentEvent;
}

/** A record could not be decoded: never retried, it goes straight to the DLQ. */
export class UndecodableRecordError extends Error {
  override readonly name = 'UndecodableRecordError';
}

/** A value to encode does not match its contract's schema: a bug or bad input, never retried. */
export class SchemaViolationError extends TypeError {
  override readonly name = 'SchemaViolationError';
}

/** The registry could not be reached: retried later, the record is fine. */
export class RegistryUnavailableError extends Error {
  override readonly name = 'RegistryUnavailableError';
}

const MAGIC_BYTE = 0;
/** Where the registry is and how to reach it (see registryConnection in @rag/common). */
export interface RegistryTarget {
  url: string;
  auth?: { username: string; password: string };
  agent?: Agent;
  autoRegister?: boolean;
}

const HEADER_SIZE = 5;

/**
 * Confluent wire format (magic byte, 4-byte schema id, Avro body) over a schema registry.
 * Writes with this build's schema; reads any registered writer schema of the contract through
 * an Avro resolver into this build's reader schema, so BACKWARD-compatible evolution just works.
 * Types and resolvers are cached per schema id, so the hot path never parses a schema.
 */
export class ContractSerde {
  private readonly readerTypes = new Map<ContractName, Type>();
  private readonly writerIds = new Map<ContractName, number>();
  /** Per contract and writer schema id; no resolver when the writer schema is the reader's (same canonical form). */
  private readonly resolvers = new Map<string, { resolver?: ReturnType<Type['createResolver']> }>();
  private readonly writerTypes = new Map<number, Promise<Type>>();

  constructor(
    readonly registry: SchemaRegistry,
    /** false: only look up the ids of this build's schemas (they must have been registered, by provisioning). */
    private readonly autoRegister = true,
  ) {}

  /** A URL, or a URL with basic auth, a TLS agent (private CA) and the registration mode. */
  static connect(target: string | RegistryTarget): ContractSerde {
    const { url, auth, agent, autoRegister } = typeof target === 'string' ? { url: target } : target;
    return new ContractSerde(new SchemaRegistry({ host: url, auth, agent, retry: { retries: 2 } }), autoRegister ?? true);
  }

  readerType(name: ContractName): Type {
    let type = this.readerTypes.get(name);
    if (!type) {
      type = avro.Type.forSchema(loadSchema(name));
      this.readerTypes.set(name, type);
    }
    return type;
  }

  /** Registers (idempotently) the contract's schema under `<topic>-value` and remembers its id for writing. */
  async registerWriter(name: ContractName, topic: string): Promise<number> {
    const schema = { type: SchemaType.AVRO, schema: JSON.stringify(loadSchema(name)) } as const;
    const id = this.autoRegister
      ? (await this.registry.register(schema, { subject: valueSubject(topic) })).id
      : await this.lookUpWriter(name, topic, schema);
    this.writerIds.set(name, id);
    return id;
  }

  private async lookUpWriter(name: ContractName, topic: string, schema: { type: SchemaType.AVRO; schema: string }): Promise<number> {
    try {
      return await this.registry.getRegistryIdBySchema(valueSubject(topic), schema);
    } catch (err) {
      throw new Error(
        `${name} is not registered under ${valueSubject(topic)} (SCHEMA_REGISTRY_AUTO_REGISTER=false: run provisioning first): ${(err as Error).message}`,
      );
    }
  }

  /** Encodes with the schema registered by `registerWriter`. Throws if the value does not match the schema. */
  encode<N extends ContractName>(name: N, value: ContractTypes[N]): Buffer {
    const id = this.writerIds.get(name);
    if (id === undefined) throw new Error(`No writer schema registered for ${name}; call registerWriter first`);
    const type = this.readerType(name);
    const invalid: string[] = [];
    if (!type.isValid(value, { errorHook: (path) => invalid.push(path.join('.')) })) {
      throw new SchemaViolationError(`${name} does not match its Avro schema at: ${invalid.join(', ')}`);
    }
    const body = type.toBuffer(value);
    const out = Buffer.allocUnsafe(HEADER_SIZE + body.length);
    out.writeUInt8(MAGIC_BYTE, 0);
    out.writeInt32BE(id, 1);
    body.copy(out, HEADER_SIZE);
    return out;
  }

  /** Decodes wire-format bytes into the contract's current shape. */
  async decode<N extends ContractName>(name: N, bytes: Buffer | null): Promise<ContractTypes[N]> {
    if (!bytes || bytes.length < HEADER_SIZE)
      throw new UndecodableRecordError('record value is empty or shorter than the 5-byte wire-format header');
    if (bytes.readUInt8(0) !== MAGIC_BYTE) {
      throw new UndecodableRecordError(`unknown magic byte ${bytes.readUInt8(0)} (expected 0, Confluent wire format)`);
    }
    const schemaId = bytes.readInt32BE(1);
    const { resolver } = await this.resolverFor(name, schemaId);
    try {
      return this.readerType(name).fromBuffer(bytes.subarray(HEADER_SIZE), resolver) as ContractTypes[N];
    } catch (err) {
      throw new UndecodableRecordError(`Avro body does not decode with schema id ${schemaId}: ${(err as Error).message}`);
    }
  }

  /**
   * Primes the reader for the schema a topic's producers write now (the subject's latest), so the
   * first record a stage consumes does not wait for the registry and for a resolver to be built.
   */
  async prepareReader(name: ContractName, topic: string): Promise<void> {
    try {
      await this.resolverFor(name, await this.registry.getLatestSchemaId(valueSubject(topic)));
    } catch {
      // Nothing registered yet, or the registry is down: the first record fetches its schema.
    }
  }

  private async resolverFor(name: ContractName, schemaId: number): Promise<{ resolver?: ReturnType<Type['createResolver']> }> {
    const key = `${name}:${schemaId}`;
    const cached = this.resolvers.get(key);
    if (cached) return cached;
    const writer = await this.writerType(schemaId);
    const reader = this.readerType(name);
    let entry;
    try {
      // Same canonical form, same bytes: read directly, without a resolver's extra pass.
      entry = reader.equals(writer) ? {} : { resolver: reader.createResolver(writer) };
    } catch (err) {
      throw new UndecodableRecordError(`schema id ${schemaId} is not readable as ${name}: ${(err as Error).message}`);
    }
    this.resolvers.set(key, entry);
    return entry;
  }

  private writerType(schemaId: number): Promise<Type> {
    let pending = this.writerTypes.get(schemaId);
    if (!pending) {
      pending = this.fetchWriterType(schemaId);
      this.writerTypes.set(schemaId, pending);
      pending.catch(() => this.writerTypes.delete(schemaId));
    }
    return pending;
  }

  private async fetchWriterType(schemaId: number): Promise<Type> {
    try {
      // The registry client already parses Avro schemas into avsc types (and caches them).
      const schema: unknown = await this.registry.getSchema(schemaId);
      if (avro.Type.isType(schema)) return schema as Type;
      return avro.Type.forSchema(schema as avro.Schema);
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === 404) throw new UndecodableRecordError(`unknown schema id ${schemaId} (not in the registry)`);
      throw new RegistryUnavailableError(`schema registry error for id ${schemaId}: ${(err as Error).message}`);
    }
  }
}
