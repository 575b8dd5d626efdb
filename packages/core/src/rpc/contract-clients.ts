/**
 * The objects a caller receives for a contract: the local client (the implementation itself, or a thin
 * checking wrapper) and the remote client (a transport call plus output decoding).
 */
import { type Codec, jsonCodec } from '../codec.js';
import type { AnyContract, CallContext } from '../contract.js';
import { reviveError, serializeError } from '../errors.js';
import { parseOrThrow } from '../validation.js';
import type { RpcClient } from './types.js';

type AnyMethod = (input: unknown, context?: CallContext) => Promise<unknown>;

/** How in-process calls are checked. */
export interface LocalCallOptions {
  /** Round-trip input, output and errors through the codec, as a remote call would. */
  readonly serialize: boolean;
  /** Parse input with the contract's input schema. */
  readonly validateInput: boolean;
  /** Parse output with the contract's output schema. */
  readonly validateOutput: boolean;
  /** Codec used when `serialize` is on. */
  readonly codec?: Codec;
}

/**
 * Returns what callers in this process receive for a hosted service. With no checks and no
 * serialization that is the implementation itself: a local call is a plain method call.
 */
export function createLocalClient(
  contract: AnyContract,
  instance: object,
  options: LocalCallOptions,
): object {
  const { serialize, validateInput, validateOutput } = options;
  if (!serialize && !validateInput && !validateOutput) return instance;
  const codec = options.codec ?? jsonCodec;
  const target = instance as Record<string, AnyMethod>;
  const client: Record<string, AnyMethod> = {};
  for (const method of contract.methodNames) {
    const definition = contract.methods[method]!;
    const subject = `${contract.name}.${method}`;
    const invoke = async (input: unknown, context?: CallContext): Promise<unknown> => {
      let value = serialize ? codec.decode(codec.encode(input)) : input;
      if (validateInput) value = parseOrThrow(definition.input, value, subject, 'input');
      let output = await target[method]!(value, context);
      if (serialize) output = codec.decode(codec.encode(output));
      return validateOutput ? parseOrThrow(definition.output, output, subject, 'output') : output;
    };
    client[method] = serialize
      ? async (input, context) => {
          try {
            return await invoke(input, context);
          } catch (error) {
            const { status, body } = serializeError(error);
            throw reviveError(codec.decode(codec.encode(body)) as typeof body, contract.errors, status);
          }
        }
      : invoke;
  }
  return Object.freeze(client);
}

/** Returns the client of a service hosted in another process, calling it through `rpc`. */
export function createRemoteClient(contract: AnyContract, rpc: RpcClient): Record<string, AnyMethod> {
  const client: Record<string, AnyMethod> = {};
  for (const method of contract.methodNames) {
    const definition = contract.methods[method]!;
    const subject = `${contract.name}.${method}`;
    client[method] = async (input, context) => {
      const raw = await rpc.call(contract.name, method, input, context);
      return parseOrThrow(definition.output, raw, subject, 'output');
    };
  }
  return client;
}
