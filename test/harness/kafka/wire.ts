/**
 * A minimal Kafka protocol client over `node:net`: Metadata, Produce and Fetch, one connection per call.
 *
 * The harness uses it to check that a broker really answers (not only accepts TCP), and tests use it to
 * look at a broker without the client under test: write a record, read a partition back, list topics.
 * It speaks the oldest non-flexible versions Kafka 4.x still serves (Metadata v8, Produce v8, Fetch v11)
 * and uncompressed record batches (magic 2); it is not a client to build on.
 */
import { connect } from 'node:net';

const CLIENT_ID = 'blueprint-harness';
const DEFAULT_TIMEOUT_MS = 5_000;
const API_PRODUCE = 0;
const API_FETCH = 1;
const API_METADATA = 3;
const RETRY_BACKOFF_MS = 50;
/** LEADER_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER. */
const LEADERLESS = new Set([5, 6]);

/** Where a broker listens. */
export interface KafkaAddress {
  /** Default `127.0.0.1`. */
  host?: string;
  port: number;
}

/** A broker as the Metadata response lists it. */
export interface KafkaBrokerInfo {
  nodeId: number;
  host: string;
  port: number;
}

/** A partition as the Metadata response lists it. */
export interface KafkaPartitionInfo {
  partition: number;
  /** Node id of the leader, `-1` while there is none. */
  leader: number;
  /** Kafka error code of the partition, `0` when fine (e.g. `5` LEADER_NOT_AVAILABLE). */
  errorCode: number;
}

/** A topic as the Metadata response lists it. */
export interface KafkaTopicInfo {
  name: string;
  /** Kafka error code of the topic, `0` when fine (e.g. `3` UNKNOWN_TOPIC_OR_PARTITION). */
  errorCode: number;
  internal: boolean;
  partitions: KafkaPartitionInfo[];
}

/** What {@link kafkaMetadata} returns. */
export interface KafkaMetadata {
  clusterId: string | null;
  controllerId: number;
  brokers: KafkaBrokerInfo[];
  topics: KafkaTopicInfo[];
}

/** Options of {@link kafkaMetadata}. */
export interface KafkaMetadataOptions {
  /** Topics to describe. Default: all topics. */
  topics?: readonly string[];
  /** Let the broker create missing `topics` (when `auto.create.topics.enable` is on). Default `false`. */
  allowAutoCreate?: boolean;
  /** Give up after this many ms. Default `5000`. */
  timeoutMs?: number;
}

/** A record to write with {@link kafkaProduce}. Strings are written as UTF-8. */
export interface KafkaRecordInput {
  key?: string | Uint8Array | null;
  value: string | Uint8Array | null;
  headers?: Readonly<Record<string, string | Uint8Array>>;
  /** Milliseconds since the epoch. Default: now. */
  timestamp?: number;
}

/** Options of {@link kafkaProduce}. */
export interface KafkaProduceOptions {
  /** `-1` (all in-sync replicas), `1` (leader) or `0` (no reply is awaited). Default `-1`. */
  acks?: -1 | 0 | 1;
  /** Broker-side wait for the acks, and the client-side timeout. Default `5000`. */
  timeoutMs?: number;
}

/** A record read with {@link kafkaFetch}. */
export interface KafkaFetchedRecord {
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<[string, Buffer | null]>;
}

/** Options of {@link kafkaFetch}. */
export interface KafkaFetchOptions {
  /** First offset to read. Default `0n`. */
  offset?: bigint;
  /** How long the broker may wait for data. Default `0` (answer at once). */
  maxWaitMs?: number;
  /** Most bytes of record batches to return. Default 1 MiB. */
  maxBytes?: number;
  /** Client-side timeout. Default `maxWaitMs + 5000`. */
  timeoutMs?: number;
}

/** What {@link kafkaFetch} returns. */
export interface KafkaFetchResult {
  highWatermark: bigint;
  logStartOffset: bigint;
  records: KafkaFetchedRecord[];
}

/** A non-zero Kafka error code in a response, e.g. `3` UNKNOWN_TOPIC_OR_PARTITION. */
export class KafkaProtocolError extends Error {
  override readonly name = 'KafkaProtocolError';

  constructor(
    /** The Kafka error code. */
    readonly errorCode: number,
    what: string,
    detail?: string | null,
  ) {
    const known = ERROR_NAMES[errorCode] ?? 'see the Kafka protocol error codes';
    super(`${what}: Kafka error ${errorCode} (${known})${detail ? `: ${detail}` : ''}`);
  }
}

const ERROR_NAMES: Record<number, string> = {
  [-1]: 'UNKNOWN_SERVER_ERROR',
  1: 'OFFSET_OUT_OF_RANGE',
  2: 'CORRUPT_MESSAGE',
  3: 'UNKNOWN_TOPIC_OR_PARTITION',
  5: 'LEADER_NOT_AVAILABLE',
  6: 'NOT_LEADER_OR_FOLLOWER',
  7: 'REQUEST_TIMED_OUT',
  10: 'MESSAGE_TOO_LARGE',
  19: 'NOT_ENOUGH_REPLICAS',
  35: 'UNSUPPORTED_VERSION',
  87: 'INVALID_RECORD',
};

/**
 * Sends a Metadata request (v8) and returns the brokers, the cluster id and the topics.
 *
 * @example
 * const { clusterId, topics } = await kafkaMetadata({ port: kafka.port }, { topics: ['orders'] });
 */
export async function kafkaMetadata(
  address: KafkaAddress,
  options: KafkaMetadataOptions = {},
): Promise<KafkaMetadata> {
  const body = new Writer();
  if (options.topics === undefined) body.int32(-1);
  else {
    body.int32(options.topics.length);
    for (const topic of options.topics) body.string(topic);
  }
  body
    .int8(options.allowAutoCreate === true ? 1 : 0)
    .int8(0)
    .int8(0);
  const reader = await request(address, API_METADATA, 8, body, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  reader.int32(); // throttle_time_ms
  const brokers = reader.array(() => {
    const broker = { nodeId: reader.int32(), host: reader.string() ?? '', port: reader.int32() };
    reader.string(); // rack
    return broker;
  });
  const clusterId = reader.string();
  const controllerId = reader.int32();
  const topics = reader.array(() => {
    const errorCode = reader.int16();
    const name = reader.string() ?? '';
    const internal = reader.int8() !== 0;
    const partitions = reader.array(() => {
      const partitionError = reader.int16();
      const partition = reader.int32();
      const leader = reader.int32();
      reader.int32(); // leader_epoch
      for (let i = 0; i < 3; i++) reader.array(() => reader.int32()); // replicas, isr, offline
      return { partition, leader, errorCode: partitionError };
    });
    reader.int32(); // topic_authorized_operations
    return { name, errorCode, internal, partitions };
  });
  return { clusterId, controllerId, brokers, topics };
}

/**
 * Writes `records` to one partition as a single uncompressed batch (Produce v8) and returns the offset
 * of the first one. While the partition has no leader yet (a new topic, a restarted broker) it retries
 * until `timeoutMs`; other refusals throw a {@link KafkaProtocolError}.
 *
 * @example
 * const { baseOffset } = await kafkaProduce({ port: kafka.port }, 'orders', 0, [{ key: 'a', value: 'x' }]);
 */
export function kafkaProduce(
  address: KafkaAddress,
  topic: string,
  partition: number,
  records: readonly KafkaRecordInput[],
  options: KafkaProduceOptions = {},
): Promise<{ baseOffset: bigint }> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return retryWhileLeaderless(timeoutMs, () => produceOnce(address, topic, partition, records, options));
}

async function produceOnce(
  address: KafkaAddress,
  topic: string,
  partition: number,
  records: readonly KafkaRecordInput[],
  options: KafkaProduceOptions,
): Promise<{ baseOffset: bigint }> {
  const acks = options.acks ?? -1;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const batch = encodeRecordBatch(records);
  const body = new Writer().string(null).int16(acks).int32(timeoutMs);
  body.int32(1).string(topic).int32(1).int32(partition).bytes(batch);
  if (acks === 0) {
    await request(address, API_PRODUCE, 8, body, timeoutMs, false);
    return { baseOffset: -1n };
  }
  const reader = await request(address, API_PRODUCE, 8, body, timeoutMs + 1_000);
  const results = reader.array(() => {
    reader.string(); // topic
    return reader.array(() => {
      reader.int32(); // partition
      const errorCode = reader.int16();
      const baseOffset = reader.int64();
      reader.int64(); // log_append_time_ms
      reader.int64(); // log_start_offset
      reader.array(() => [reader.int32(), reader.string()]); // record_errors
      const message = reader.string();
      return { errorCode, baseOffset, message };
    });
  });
  const result = results[0]?.[0];
  if (result === undefined)
    throw new Error(`Produce to ${topic}-${partition}: the response names no partition`);
  if (result.errorCode !== 0)
    throw new KafkaProtocolError(result.errorCode, `Produce to ${topic}-${partition}`, result.message);
  return { baseOffset: result.baseOffset };
}

/**
 * Reads records of one partition from `offset` on (Fetch v11, read-uncommitted). Like
 * {@link kafkaProduce} it retries while the partition has no leader; other partition errors (an unknown
 * topic, say) throw a {@link KafkaProtocolError}.
 *
 * @example
 * const { records } = await kafkaFetch({ port: kafka.port }, 'orders', 0);
 * records[0]?.value?.toString(); // 'x'
 */
export function kafkaFetch(
  address: KafkaAddress,
  topic: string,
  partition: number,
  options: KafkaFetchOptions = {},
): Promise<KafkaFetchResult> {
  const timeoutMs = options.timeoutMs ?? (options.maxWaitMs ?? 0) + DEFAULT_TIMEOUT_MS;
  return retryWhileLeaderless(timeoutMs, () => fetchOnce(address, topic, partition, options));
}

async function fetchOnce(
  address: KafkaAddress,
  topic: string,
  partition: number,
  options: KafkaFetchOptions,
): Promise<KafkaFetchResult> {
  const maxWaitMs = options.maxWaitMs ?? 0;
  const maxBytes = options.maxBytes ?? 1_048_576;
  const body = new Writer().int32(-1).int32(maxWaitMs).int32(1).int32(maxBytes).int8(0).int32(0).int32(-1);
  body
    .int32(1)
    .string(topic)
    .int32(1)
    .int32(partition)
    .int32(-1)
    .int64(options.offset ?? 0n)
    .int64(-1n);
  body.int32(maxBytes).int32(0).string('');
  const timeoutMs = options.timeoutMs ?? maxWaitMs + DEFAULT_TIMEOUT_MS;
  const reader = await request(address, API_FETCH, 11, body, timeoutMs);
  reader.int32(); // throttle_time_ms
  const errorCode = reader.int16();
  reader.int32(); // session_id
  if (errorCode !== 0) throw new KafkaProtocolError(errorCode, `Fetch from ${topic}-${partition}`);
  const results = reader.array(() => {
    reader.string(); // topic
    return reader.array(() => {
      reader.int32(); // partition
      const partitionError = reader.int16();
      const highWatermark = reader.int64();
      reader.int64(); // last_stable_offset
      const logStartOffset = reader.int64();
      reader.array(() => [reader.int64(), reader.int64()]); // aborted_transactions
      reader.int32(); // preferred_read_replica
      const records = reader.bytes();
      return { errorCode: partitionError, highWatermark, logStartOffset, records };
    });
  });
  const result = results[0]?.[0];
  if (result === undefined)
    throw new Error(`Fetch from ${topic}-${partition}: the response names no partition`);
  if (result.errorCode !== 0)
    throw new KafkaProtocolError(result.errorCode, `Fetch from ${topic}-${partition}`);
  const records = result.records === null ? [] : decodeRecordBatches(result.records);
  return {
    highWatermark: result.highWatermark,
    logStartOffset: result.logStartOffset,
    records: records.filter((record) => record.offset >= (options.offset ?? 0n)),
  };
}

/**
 * Runs `attempt` again while it fails with LEADER_NOT_AVAILABLE or NOT_LEADER_OR_FOLLOWER, which a broker
 * answers for a moment after it created a partition or restarted, as real clients do; up to `timeoutMs`.
 */
async function retryWhileLeaderless<T>(timeoutMs: number, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      const leaderless = error instanceof KafkaProtocolError && LEADERLESS.has(error.errorCode);
      if (!leaderless || Date.now() + RETRY_BACKOFF_MS >= deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_BACKOFF_MS));
  }
}

/**
 * Sends one request (header v1) on a fresh connection and resolves with a reader positioned after the
 * response's correlation id; with `expectReply` false it resolves once the request is written.
 */
function request(
  address: KafkaAddress,
  apiKey: number,
  apiVersion: number,
  body: Writer,
  timeoutMs: number,
  expectReply = true,
): Promise<Reader> {
  const correlationId = 1;
  const header = new Writer().int16(apiKey).int16(apiVersion).int32(correlationId).string(CLIENT_ID);
  const payload = Buffer.concat([header.toBuffer(), body.toBuffer()]);
  const frame = Buffer.alloc(4 + payload.length);
  frame.writeInt32BE(payload.length, 0);
  payload.copy(frame, 4);
  const host = address.host ?? '127.0.0.1';
  const what = `Kafka request ${apiKey} v${apiVersion} to ${host}:${address.port}`;

  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: address.port });
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (error: Error | undefined, reader?: Reader) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error !== undefined) reject(error);
      else if (reader !== undefined) resolve(reader);
    };
    const timer = setTimeout(
      () => finish(new Error(`${what} got no reply within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('connect', () => {
      socket.write(frame, () => {
        if (!expectReply) finish(undefined, new Reader(Buffer.alloc(0)));
      });
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      const size = received.readInt32BE(0);
      if (received.length < 4 + size) return;
      const reader = new Reader(received.subarray(4, 4 + size));
      const id = reader.int32();
      if (id !== correlationId) finish(new Error(`${what}: reply has correlation id ${id}`));
      else finish(undefined, reader);
    });
    socket.on('error', (error) => finish(new Error(`${what} failed: ${error.message}`, { cause: error })));
    socket.on('close', () => finish(new Error(`${what}: the broker closed the connection`)));
  });
}

/** One uncompressed record batch (magic 2) holding `records`, offsets from 0. */
function encodeRecordBatch(records: readonly KafkaRecordInput[]): Buffer {
  const now = Date.now();
  const timestamps = records.map((record) => record.timestamp ?? now);
  const base = timestamps.length === 0 ? now : Math.min(...timestamps);
  const max = timestamps.length === 0 ? now : Math.max(...timestamps);
  const body = new Writer();
  body
    .int16(0)
    .int32(records.length - 1)
    .int64(BigInt(base))
    .int64(BigInt(max));
  body.int64(-1n).int16(-1).int32(-1).int32(records.length); // no producer id, epoch or sequence
  records.forEach((record, index) => {
    const fields = new Writer()
      .int8(0)
      .varlong(BigInt((timestamps[index] ?? now) - base))
      .varint(index);
    fields.varbytes(toBytes(record.key ?? null)).varbytes(toBytes(record.value));
    const headers = Object.entries(record.headers ?? {});
    fields.varint(headers.length);
    for (const [key, value] of headers) fields.varbytes(toBytes(key)).varbytes(toBytes(value));
    const encoded = fields.toBuffer();
    body.varint(encoded.length).raw(encoded);
  });
  const afterCrc = body.toBuffer();
  const batch = new Writer()
    .int64(0n)
    .int32(afterCrc.length + 9)
    .int32(-1)
    .int8(2);
  batch.uint32(crc32c(afterCrc)).raw(afterCrc);
  return batch.toBuffer();
}

/** The records of every complete batch in `data` (a Fetch response may end in a partial batch). */
function decodeRecordBatches(data: Buffer): KafkaFetchedRecord[] {
  const records: KafkaFetchedRecord[] = [];
  let position = 0;
  while (position + 12 <= data.length) {
    const batchLength = data.readInt32BE(position + 8);
    const end = position + 12 + batchLength;
    if (end > data.length) break;
    const reader = new Reader(data.subarray(position, end));
    const baseOffset = reader.int64();
    reader.int32(); // batch_length
    reader.int32(); // partition_leader_epoch
    const magic = reader.int8();
    if (magic !== 2) throw new Error(`record batch at offset ${baseOffset} has magic ${magic}, not 2`);
    reader.uint32(); // crc
    const attributes = reader.int16();
    reader.int32(); // last_offset_delta
    const baseTimestamp = reader.int64();
    reader.int64(); // max_timestamp
    reader.int64(); // producer_id
    reader.int16(); // producer_epoch
    reader.int32(); // base_sequence
    const count = reader.int32();
    position = end;
    if ((attributes & 0x20) !== 0) continue; // a control batch (transaction marker)
    if ((attributes & 0x07) !== 0)
      throw new Error(`record batch at offset ${baseOffset} is compressed (codec ${attributes & 0x07})`);
    for (let i = 0; i < count; i++) {
      reader.varint(); // length
      reader.int8(); // attributes
      const timestamp = baseTimestamp + reader.varlong();
      const offset = baseOffset + BigInt(reader.varint());
      const key = reader.varbytes();
      const value = reader.varbytes();
      const headers: Array<[string, Buffer | null]> = [];
      const headerCount = reader.varint();
      for (let h = 0; h < headerCount; h++) {
        const name = reader.varbytes()?.toString('utf8') ?? '';
        headers.push([name, reader.varbytes()]);
      }
      records.push({ offset, timestamp, key, value, headers });
    }
  }
  return records;
}

function toBytes(value: string | Uint8Array | null): Buffer | null {
  if (value === null) return null;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli), the checksum of Kafka record batches. */
function crc32c(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC32C_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Big-endian writer of the protocol's primitive types. */
class Writer {
  private readonly chunks: Buffer[] = [];

  int8(value: number): this {
    return this.fixed(1, (buffer) => buffer.writeInt8(value));
  }

  int16(value: number): this {
    return this.fixed(2, (buffer) => buffer.writeInt16BE(value));
  }

  int32(value: number): this {
    return this.fixed(4, (buffer) => buffer.writeInt32BE(value));
  }

  uint32(value: number): this {
    return this.fixed(4, (buffer) => buffer.writeUInt32BE(value));
  }

  int64(value: bigint): this {
    return this.fixed(8, (buffer) => buffer.writeBigInt64BE(value));
  }

  /** Nullable string: int16 length (`-1` for null), UTF-8 bytes. */
  string(value: string | null): this {
    if (value === null) return this.int16(-1);
    const bytes = Buffer.from(value, 'utf8');
    return this.int16(bytes.length).raw(bytes);
  }

  /** Nullable bytes: int32 length (`-1` for null), bytes. */
  bytes(value: Buffer | null): this {
    if (value === null) return this.int32(-1);
    return this.int32(value.length).raw(value);
  }

  /** Zigzag varint, as record fields use. */
  varint(value: number): this {
    return this.varlong(BigInt(value));
  }

  varlong(value: bigint): this {
    let zigzag = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
    const bytes: number[] = [];
    while (zigzag >= 0x80n) {
      bytes.push(Number(zigzag & 0x7fn) | 0x80);
      zigzag >>= 7n;
    }
    bytes.push(Number(zigzag));
    return this.raw(Buffer.from(bytes));
  }

  /** Varint length (`-1` for null), bytes: a record's key, value or header. */
  varbytes(value: Buffer | null): this {
    if (value === null) return this.varint(-1);
    return this.varint(value.length).raw(value);
  }

  raw(value: Buffer): this {
    this.chunks.push(value);
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }

  private fixed(size: number, write: (buffer: Buffer) => void): this {
    const buffer = Buffer.alloc(size);
    write(buffer);
    return this.raw(buffer);
  }
}

/** Big-endian reader of the protocol's primitive types; throws on a short buffer. */
class Reader {
  private position = 0;

  constructor(private readonly buffer: Buffer) {}

  int8(): number {
    return this.buffer.readInt8(this.advance(1));
  }

  int16(): number {
    return this.buffer.readInt16BE(this.advance(2));
  }

  int32(): number {
    return this.buffer.readInt32BE(this.advance(4));
  }

  uint32(): number {
    return this.buffer.readUInt32BE(this.advance(4));
  }

  int64(): bigint {
    return this.buffer.readBigInt64BE(this.advance(8));
  }

  string(): string | null {
    const length = this.int16();
    if (length < 0) return null;
    const start = this.advance(length);
    return this.buffer.toString('utf8', start, start + length);
  }

  bytes(): Buffer | null {
    const length = this.int32();
    if (length < 0) return null;
    const start = this.advance(length);
    return this.buffer.subarray(start, start + length);
  }

  /** An int32-counted array; a null array (`-1`) reads as empty. */
  array<T>(item: () => T): T[] {
    const count = this.int32();
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(item());
    return items;
  }

  varint(): number {
    return Number(this.varlong());
  }

  varlong(): bigint {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = this.buffer.readUInt8(this.advance(1));
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      if (shift > 63n) throw new Error('varint longer than 10 bytes');
    }
    return (result >> 1n) ^ -(result & 1n);
  }

  varbytes(): Buffer | null {
    const length = this.varint();
    if (length < 0) return null;
    const start = this.advance(length);
    return this.buffer.subarray(start, start + length);
  }

  private advance(size: number): number {
    const start = this.position;
    if (start + size > this.buffer.length)
      throw new Error(`Kafka response ends after ${this.buffer.length} bytes; wanted ${start + size}`);
    this.position += size;
    return start;
  }
}
