/**
 * @blueprint/events/transport — what a transport author needs: the transport seam (`EventTransport`,
 * `Delivery`, `SubscriptionSpec`, the dead-letter types), the envelope's encoding, the driver types, and
 * the pieces every broker transport shares (`BrokerTransport`, `BrokerConsumer`, the dead-letter store,
 * the connection lifecycle, coded publish errors, health). `TRANSPORTS.md` explains how to write one.
 */
export { BUILT_IN_TRANSPORTS, transportFromConfig } from '../config.js';
export {
  decodeEnvelope,
  type EventEnvelope,
  type EventHeaders,
  encodeEnvelope,
} from '../envelope.js';
export {
  BrokerConnection,
  type BrokerConnectionOptions,
  type BrokerConnector,
} from './broker/broker-connection.js';
export {
  BrokerConsumer,
  BrokerDelivery,
  type DecodedEntry,
  type DeliverySettler,
  decodeDelivered,
} from './broker/broker-consumer.js';
export {
  BrokerErrors,
  type BrokerErrorsOptions,
  type PublishFailure,
  redactUrl,
} from './broker/broker-errors.js';
export { type BrokerHealthProbe, brokerHealth } from './broker/broker-health.js';
export { BrokerTransport, type BrokerTransportSettings } from './broker/broker-transport.js';
export {
  type DeadLetterFields,
  type DeadLetterRecord,
  decodeDeadLetterRecord,
  encodeDeadLetterRecord,
  encodeDeadLetterRecordWithin,
} from './broker/dead-letter-record.js';
export {
  createDeadLetterStore,
  type DeadLetterAddress,
  type DeadLetterBackend,
  oldestDeadLetters,
  type StoredDeadLetter,
} from './broker/dead-letter-store.js';
export { ThrottledErrorReporter } from './broker/error-reporter.js';
export { PendingWrites } from './broker/pending-writes.js';
export {
  type AnyEventTransportDriver,
  type EventTransportContext,
  type EventTransportDriver,
  parseTransportOptions,
  type TransportOptionsOf,
} from './driver.js';
export {
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterReason,
  type DeadLetterStore,
  type Delivery,
  deadLetterId,
  deadLetterNotFound,
  type EventTransport,
  type GroupBinding,
  parseDeadLetterId,
  type SubscriptionSpec,
  type TransportSubscription,
} from './event-transport.js';
