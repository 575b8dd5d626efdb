/**
 * The wire of the `tcp` RPC driver: a preface each side sends once, then length-prefixed frames in both
 * directions, many calls multiplexed over one connection by request id.
 *
 * ```
 * preface   "BPRPC/1\n"                       8 bytes, sent by the client and echoed by the server
 * frame     u32 length | u8 type | u32 id | u16 head length | head | body      (big-endian)
 *           length counts everything after itself: 7 + head length + body length
 * CALL      head: u32 timeout ms | u8 service length | service | u8 method length | method | fields
 *           field: u8 key | u16 value length | value (UTF-8); body: the input, encoded by the codec
 * CANCEL    the caller gave up on call `id`: the server aborts its signal and sends no answer
 * PING      liveness; PONG answers with head u8 state (0 serving, 1 draining)
 * RESULT    body: the result, encoded by the codec (empty for `undefined`)
 * ERROR     head: u16 status; body: `{ code, message, details? }`, encoded by the codec
 * GOAWAY    the server is shutting down: no new calls on this connection (the ones sent are answered)
 * CONTRACTS body: `{ service: fingerprint }` of the services served, encoded by the codec; sent once per
 *           connection, before the answer to its first authenticated call (so before every answer that
 *           depends on it): a caller of another version of a contract tells it from this alone
 * DESCRIBE  head as CALL's, with an empty method: asks for the description of a service's contract,
 *           authenticated like a call; RESULT answers it, or ERROR
 * ```
 *
 * The length prefix lets a server refuse a frame whose body is over its limit from the first 11 bytes,
 * skipping the body as it arrives without holding it.
 */
import { PROPAGATED_HEADERS } from '../http/protocol.js';

/** The 8 bytes each side sends first. */
export const PREFACE = Buffer.from('BPRPC/1\n', 'latin1');

/** Bytes before a frame's head: length, type, id, head length. */
export const PREFIX_BYTES = 11;

/** Frame types. */
export const FrameType = {
  CALL: 1,
  CANCEL: 2,
  PING: 3,
  PONG: 4,
  RESULT: 5,
  ERROR: 6,
  GOAWAY: 7,
  CONTRACTS: 8,
  DESCRIBE: 9,
} as const;

/** A frame type's value. */
export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];

/** Keys of a call's head fields: the propagated headers, then the credential. */
const FIELD_NAMES: readonly string[] = [...PROPAGATED_HEADERS, 'credential'];
/** Key of the credential field. */
export const CREDENTIAL_FIELD = FIELD_NAMES.length;

/** What a CALL frame's head says. */
export interface CallHead {
  /** The caller's remaining time, in ms. */
  readonly timeoutMs: number;
  readonly service: string;
  readonly method: string;
  /** The propagated headers the caller sent. */
  readonly headers: Record<string, string>;
  /** The call's credential, when it carries one. */
  readonly credential: string | undefined;
}

/** What a caller puts in a CALL frame. */
export interface CallFrame {
  /** CALL, or DESCRIBE. Default: CALL. */
  readonly type?: typeof FrameType.CALL | typeof FrameType.DESCRIBE;
  readonly id: number;
  readonly timeoutMs: number;
  readonly service: string;
  readonly method: string;
  /** Propagated headers, by name (others are not sent). */
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly credential: string | undefined;
  /** The encoded input; empty for `undefined`. */
  readonly body: string;
}

function writePrefix(frame: Buffer, type: number, id: number, headBytes: number): void {
  frame.writeUInt32BE(frame.length - 4, 0);
  frame[4] = type;
  frame.writeUInt32BE(id, 5);
  frame.writeUInt16BE(headBytes, 9);
}

/** A frame without head or body: CANCEL, PING, GOAWAY. */
export function encodeControl(type: FrameTypeValue, id: number): Buffer {
  const frame = Buffer.allocUnsafe(PREFIX_BYTES);
  writePrefix(frame, type, id, 0);
  return frame;
}

/** A PONG frame. */
export function encodePong(id: number, draining: boolean): Buffer {
  const frame = Buffer.allocUnsafe(PREFIX_BYTES + 1);
  writePrefix(frame, FrameType.PONG, id, 1);
  frame[PREFIX_BYTES] = draining ? 1 : 0;
  return frame;
}

function encodeBodyOnly(type: FrameTypeValue, id: number, body: string): Buffer {
  const frame = Buffer.allocUnsafe(PREFIX_BYTES + Buffer.byteLength(body));
  writePrefix(frame, type, id, 0);
  frame.write(body, PREFIX_BYTES);
  return frame;
}

/** A RESULT frame. */
export function encodeResult(id: number, body: string): Buffer {
  return encodeBodyOnly(FrameType.RESULT, id, body);
}

/** A CONTRACTS frame: `body` is the encoded `{ service: fingerprint }`. */
export function encodeContracts(body: string): Buffer {
  return encodeBodyOnly(FrameType.CONTRACTS, 0, body);
}

/** An ERROR frame. */
export function encodeError(id: number, status: number, body: string): Buffer {
  const frame = Buffer.allocUnsafe(PREFIX_BYTES + 2 + Buffer.byteLength(body));
  writePrefix(frame, FrameType.ERROR, id, 2);
  frame.writeUInt16BE(status, PREFIX_BYTES);
  frame.write(body, PREFIX_BYTES + 2);
  return frame;
}

/**
 * A CALL frame. Throws a `RangeError` for a service or method name over 255 bytes or a header value
 * over 65535 bytes (the caller turns it into a coded error).
 */
export function encodeCall(call: CallFrame): Buffer {
  const serviceBytes = Buffer.byteLength(call.service);
  const methodBytes = Buffer.byteLength(call.method);
  if (serviceBytes > 255 || methodBytes > 255)
    throw new RangeError('service and method names are at most 255 bytes');
  let head = 6 + serviceBytes + methodBytes;
  const headers = call.headers;
  let values: (string | undefined)[] | undefined;
  if (headers !== undefined) {
    for (let key = 0; key < PROPAGATED_HEADERS.length; key++) {
      const value = headers[PROPAGATED_HEADERS[key]!];
      if (value === undefined) continue;
      values ??= [];
      values[key] = value;
      head += 3 + Buffer.byteLength(value);
    }
  }
  if (call.credential !== undefined) head += 3 + Buffer.byteLength(call.credential);
  if (head > 0xffff) throw new RangeError('the headers of a call are at most 64 KiB');
  const frame = Buffer.allocUnsafe(PREFIX_BYTES + head + Buffer.byteLength(call.body));
  writePrefix(frame, call.type ?? FrameType.CALL, call.id, head);
  let at = PREFIX_BYTES;
  frame.writeUInt32BE(call.timeoutMs, at);
  at += 4;
  frame[at++] = serviceBytes;
  at += frame.write(call.service, at);
  frame[at++] = methodBytes;
  at += frame.write(call.method, at);
  if (values !== undefined) {
    for (let key = 0; key < values.length; key++) {
      const value = values[key];
      if (value !== undefined) at = writeField(frame, at, key, value);
    }
  }
  if (call.credential !== undefined) at = writeField(frame, at, CREDENTIAL_FIELD, call.credential);
  frame.write(call.body, at);
  return frame;
}

function writeField(frame: Buffer, at: number, key: number, value: string): number {
  frame[at] = key;
  const length = frame.write(value, at + 3);
  frame.writeUInt16BE(length, at + 1);
  return at + 3 + length;
}

/**
 * Reads a CALL frame's head. Returns undefined for a head that does not parse (truncated names or
 * fields); fields with unknown keys are skipped, so newer callers can add some.
 */
export function decodeCallHead(head: Buffer): CallHead | undefined {
  if (head.length < 6) return undefined;
  const timeoutMs = head.readUInt32BE(0);
  let at = 4;
  const serviceBytes = head[at++]!;
  if (at + serviceBytes + 1 > head.length) return undefined;
  const service = head.toString('utf8', at, at + serviceBytes);
  at += serviceBytes;
  const methodBytes = head[at++]!;
  if (at + methodBytes > head.length) return undefined;
  const method = head.toString('utf8', at, at + methodBytes);
  at += methodBytes;
  const headers: Record<string, string> = {};
  let credential: string | undefined;
  while (at < head.length) {
    if (at + 3 > head.length) return undefined;
    const key = head[at]!;
    const length = head.readUInt16BE(at + 1);
    at += 3;
    if (at + length > head.length) return undefined;
    if (key === CREDENTIAL_FIELD) credential = head.toString('utf8', at, at + length);
    else if (key < PROPAGATED_HEADERS.length)
      headers[FIELD_NAMES[key]!] = head.toString('utf8', at, at + length);
    at += length;
  }
  return { timeoutMs, service, method, headers, credential };
}

/** One frame as the decoder hands it over. */
export interface DecodedFrame {
  readonly type: number;
  readonly id: number;
  readonly head: Buffer;
  /** The body, or undefined when it was over the limit and skipped. */
  readonly body: Buffer | undefined;
  /** The body's length in bytes (also when skipped). */
  readonly bodyBytes: number;
}

/**
 * Told about a frame once its prefix and head are in, before its body is read: false skips the body as
 * it arrives (never held) and hands the frame to no one. Lets a server refuse a call (unauthenticated,
 * unknown method, over a limit) before it holds its body.
 */
export type HeadFilter = (type: number, id: number, head: Buffer, bodyBytes: number) => boolean;

/** Limits a {@link FrameDecoder} enforces. */
export interface DecoderLimits {
  /** Largest body held; a larger one is skipped and handed over as `body: undefined`. */
  readonly bodyLimit: number;
  /** Largest head; a larger one breaks the connection (`onViolation`). */
  readonly headLimit: number;
}

/**
 * Cuts a byte stream into frames. The preface is checked first (`onPreface` with whether it matched).
 * A frame that lies within one chunk is handed over as views of that chunk, without a copy; one split
 * over chunks is copied once. A body over `bodyLimit` is skipped as it arrives, never held.
 */
export class FrameDecoder {
  private readonly chunks: Buffer[] = [];
  /** Offset of the first unread byte in `chunks[0]`. */
  private offset = 0;
  /** Unread bytes in `chunks`. */
  private buffered = 0;
  private prefaceSeen = false;
  /** The prefix of the frame being read, once its 11 bytes are in. */
  private type = 0;
  private id = 0;
  private headBytes = -1;
  private bodyBytes = 0;
  private head: Buffer | undefined;
  /** Bytes of an oversized (or refused) body still to skip. */
  private skipping = 0;
  /** True when the body being skipped was refused by the head filter: the frame goes to no one. */
  private silent = false;
  private stopped = false;

  constructor(
    private readonly limits: DecoderLimits,
    private readonly onFrame: (frame: DecodedFrame) => void,
    private readonly onPreface: (matched: boolean, received: Buffer) => void,
    private readonly onViolation: (message: string) => void,
    private readonly onHead?: HeadFilter,
  ) {}

  /** True while part of a frame (or of the preface) has been read and the rest has not. */
  get partial(): boolean {
    return this.buffered > 0 || this.headBytes >= 0 || this.skipping > 0;
  }

  /** Stops decoding: later chunks are dropped. */
  stop(): void {
    this.stopped = true;
    this.chunks.length = 0;
    this.buffered = 0;
  }

  /** Feeds a chunk read from the socket. */
  push(chunk: Buffer): void {
    if (this.stopped || chunk.length === 0) return;
    if (this.skipping > 0) {
      const skipped = Math.min(this.skipping, chunk.length);
      this.skipping -= skipped;
      if (skipped === chunk.length) {
        if (this.skipping === 0) this.finishSkipped();
        return;
      }
      chunk = chunk.subarray(skipped);
      if (this.skipping === 0) this.finishSkipped();
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (!this.stopped && this.step()) {
      // Each step consumes one piece (preface, prefix, head or body) while enough bytes are in.
    }
  }

  private step(): boolean {
    if (!this.prefaceSeen) {
      if (this.buffered < PREFACE.length) return false;
      const received = this.take(PREFACE.length);
      this.prefaceSeen = true;
      const matched = received.equals(PREFACE);
      this.onPreface(matched, received);
      if (!matched) this.stop();
      return matched;
    }
    if (this.headBytes < 0) {
      if (this.buffered < PREFIX_BYTES) return false;
      const prefix = this.take(PREFIX_BYTES);
      const length = prefix.readUInt32BE(0);
      this.type = prefix[4]!;
      this.id = prefix.readUInt32BE(5);
      this.headBytes = prefix.readUInt16BE(9);
      this.bodyBytes = length - 7 - this.headBytes;
      if (this.bodyBytes < 0) {
        this.violation(`a frame of ${length} bytes cannot hold its ${this.headBytes}-byte head`);
        return false;
      }
      if (this.headBytes > this.limits.headLimit) {
        this.violation(
          `a frame head of ${this.headBytes} bytes is over the limit of ${this.limits.headLimit}`,
        );
        return false;
      }
      return true;
    }
    if (this.head === undefined) {
      if (this.buffered < this.headBytes) return false;
      this.head = this.take(this.headBytes);
      this.silent = this.onHead !== undefined && !this.onHead(this.type, this.id, this.head, this.bodyBytes);
      if (this.stopped) return false;
      if (this.silent || this.bodyBytes > this.limits.bodyLimit) {
        const skipped = Math.min(this.buffered, this.bodyBytes);
        this.drop(skipped);
        this.skipping = this.bodyBytes - skipped;
        if (this.skipping === 0) this.finishSkipped();
        return this.skipping === 0;
      }
      return true;
    }
    if (this.buffered < this.bodyBytes) return false;
    const body = this.take(this.bodyBytes);
    const frame: DecodedFrame = {
      type: this.type,
      id: this.id,
      head: this.head,
      body,
      bodyBytes: this.bodyBytes,
    };
    this.headBytes = -1;
    this.head = undefined;
    this.onFrame(frame);
    return true;
  }

  private finishSkipped(): void {
    if (this.silent) {
      this.silent = false;
      this.headBytes = -1;
      this.head = undefined;
      return;
    }
    const frame: DecodedFrame = {
      type: this.type,
      id: this.id,
      head: this.head ?? Buffer.alloc(0),
      body: undefined,
      bodyBytes: this.bodyBytes,
    };
    this.headBytes = -1;
    this.head = undefined;
    this.onFrame(frame);
  }

  private violation(message: string): void {
    this.stop();
    this.onViolation(message);
  }

  /** The next `n` buffered bytes: a view of one chunk when they lie in it, else a copy. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (n === 0) return EMPTY;
    if (first !== undefined && first.length - this.offset >= n) {
      const view = first.subarray(this.offset, this.offset + n);
      this.offset += n;
      if (this.offset === first.length) {
        this.chunks.shift();
        this.offset = 0;
      }
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const copied = chunk.copy(out, filled, this.offset, Math.min(chunk.length, this.offset + n - filled));
      filled += copied;
      this.offset += copied;
      if (this.offset === chunk.length) {
        this.chunks.shift();
        this.offset = 0;
      }
    }
    return out;
  }

  /** Drops the next `n` buffered bytes. */
  private drop(n: number): void {
    this.buffered -= n;
    let left = n;
    while (left > 0) {
      const chunk = this.chunks[0]!;
      const available = chunk.length - this.offset;
      if (available > left) {
        this.offset += left;
        return;
      }
      left -= available;
      this.chunks.shift();
      this.offset = 0;
    }
  }
}

const EMPTY = Buffer.alloc(0);
