/**
 * @blueprint/core/transport — what a driver author needs (an RPC transport, an event transport, a cache
 * store): the descriptor helpers, and the one codec every driver moves values with.
 */
export { CODEC_TAG, type Codec, jsonCodec, parseJsonSafely, roundTrip } from '../codec.js';
export {
  markRelayed,
  type RelayedFrom,
  reviveError,
  serializeError,
} from '../errors.js';
export {
  type AnyDriver,
  type DriverDescriptor,
  defineDriver,
  discriminatedByType,
  driverFor,
  driverOptions,
  driverSectionSchema,
} from './drivers.js';
export { optionalPeer } from './optional-peer.js';
