/**
 * Test harness: real Redis and NATS servers on free ports, a fault-injecting TCP proxy, and `waitFor`;
 * also private memcached, nginx and haproxy processes, a private Kafka broker (`startKafka`, with a
 * minimal wire client to look at it), and a throw-away TLS PKI.
 *
 * The integration project's global setup starts one shared Redis and one shared NATS (or uses
 * `REDIS_URL` / `NATS_URL`); read them with `inject('redisUrl')` / `inject('natsUrl')`. A test that kills
 * or restarts a server starts its own with {@link startRedis} / {@link startNats}.
 */

export { type WaitForOptions, waitFor } from '../../packages/core/src/testing/wait-for.js';
export { DECORATOR_SETTINGS, type DecoratorSetting, importCompiled } from './decorators.js';
export {
  type FaultMode,
  type FaultProxy,
  type FaultProxyOptions,
  startFaultProxy,
} from './fault-proxy.js';
export {
  type KafkaAddress,
  type KafkaBrokerInfo,
  type KafkaFetchedRecord,
  type KafkaFetchOptions,
  type KafkaFetchResult,
  type KafkaMetadata,
  type KafkaMetadataOptions,
  type KafkaPartitionInfo,
  type KafkaProduceOptions,
  KafkaProtocolError,
  type KafkaRecordInput,
  type KafkaTopicInfo,
  kafkaFetch,
  kafkaMetadata,
  kafkaProduce,
} from './kafka/wire.js';
export {
  ensureKafkaLibs,
  KAFKA_VERSION,
  type KafkaLibs,
  type KafkaServerHandle,
  type KafkaServerOptions,
  startKafka,
} from './kafka.js';
export { getFreePortRange } from './ports.js';
export {
  type ProxyConfig,
  type ProxyConfigContext,
  type ProxyHandle,
  type ProxyOptions,
  startHaproxy,
  startNginx,
} from './proxies.js';
export {
  getFreePort,
  killAllServersSync,
  LOOPBACK,
  type MemcachedHandle,
  type MemcachedServerOptions,
  type NatsServerOptions,
  type PostgresServerOptions,
  type RedisServerOptions,
  type ServerHandle,
  startMemcached,
  startNats,
  startPostgres,
  startRedis,
  stopAllServers,
} from './servers.js';
export {
  createTestPki,
  type TestCertificate,
  type TestPki,
  type TestPkiOptions,
} from './tls.js';
