import { describe, expect, it } from 'vitest';
import {
  type DecodedFrame,
  decodeCallHead,
  encodeCall,
  encodeControl,
  encodeError,
  encodeResult,
  FrameDecoder,
  FrameType,
  type HeadFilter,
  PREFACE,
  PREFIX_BYTES,
} from './frames.js';

function decoder(options: { bodyLimit?: number; headLimit?: number; onHead?: HeadFilter } = {}) {
  const frames: DecodedFrame[] = [];
  const violations: string[] = [];
  const prefaces: boolean[] = [];
  const d = new FrameDecoder(
    { bodyLimit: options.bodyLimit ?? 1024, headLimit: options.headLimit ?? 1024 },
    (frame) =>
      frames.push({
        ...frame,
        head: Buffer.from(frame.head),
        body: frame.body === undefined ? undefined : Buffer.from(frame.body),
      }),
    (matched) => prefaces.push(matched),
    (message) => violations.push(message),
    options.onHead,
  );
  return { d, frames, violations, prefaces };
}

const call = (id: number, body: string, extra: Partial<Parameters<typeof encodeCall>[0]> = {}) =>
  encodeCall({
    id,
    timeoutMs: 2_500,
    service: 'products',
    method: 'get',
    headers: { 'x-correlation-id': 'c-1', traceparent: '00-abc-def-01', other: 'dropped' },
    credential: 'bp1.token',
    body,
    ...extra,
  });

describe('tcp frames', () => {
  it('round-trips a call head: timeout, names, propagated headers and credential (other headers are not sent)', () => {
    const { d, frames } = decoder();
    d.push(Buffer.concat([PREFACE, call(7, '{"id":"p1"}')]));
    expect(frames).toHaveLength(1);
    const [frame] = frames;
    expect(frame).toMatchObject({ type: FrameType.CALL, id: 7 });
    expect(frame!.body!.toString()).toBe('{"id":"p1"}');
    expect(decodeCallHead(frame!.head)).toEqual({
      timeoutMs: 2_500,
      service: 'products',
      method: 'get',
      headers: { 'x-correlation-id': 'c-1', traceparent: '00-abc-def-01' },
      credential: 'bp1.token',
    });
  });

  it('cuts frames split at every byte, and several frames in one chunk, alike', () => {
    const bytes = Buffer.concat([
      PREFACE,
      call(1, '"a"'),
      encodeResult(2, '{"ok":true}'),
      encodeError(3, 404, '{"code":"NOT_FOUND"}'),
      encodeControl(FrameType.PING, 4),
    ]);
    const whole = decoder();
    whole.d.push(bytes);
    const split = decoder();
    for (let i = 0; i < bytes.length; i++) split.d.push(bytes.subarray(i, i + 1));
    expect(split.frames).toEqual(whole.frames);
    expect(whole.frames.map((f) => [f.type, f.id])).toEqual([
      [FrameType.CALL, 1],
      [FrameType.RESULT, 2],
      [FrameType.ERROR, 3],
      [FrameType.PING, 4],
    ]);
    expect(whole.frames[2]!.head.readUInt16BE(0)).toBe(404);
    expect(split.d.partial).toBe(false);
  });

  it('skips a body over the limit without holding it, hands the frame over without body, and reads on', () => {
    const { d, frames } = decoder({ bodyLimit: 8 });
    const big = call(1, 'x'.repeat(100));
    d.push(PREFACE);
    d.push(big.subarray(0, 40));
    d.push(big.subarray(40));
    d.push(call(2, '"ok"'));
    expect(frames.map((f) => [f.id, f.body?.toString(), f.bodyBytes])).toEqual([
      [1, undefined, 100],
      [2, '"ok"', 4],
    ]);
  });

  it('lets a head filter refuse a frame from its head: its body is skipped and the frame goes to no one', () => {
    const seen: number[] = [];
    const { d, frames } = decoder({
      onHead: (_type, id, head, bodyBytes) => {
        seen.push(bodyBytes);
        return decodeCallHead(head)?.credential === 'good' || id === 3;
      },
    });
    d.push(PREFACE);
    const refused = call(1, '{ never decoded', { credential: 'bad' });
    d.push(refused.subarray(0, PREFIX_BYTES + 5));
    d.push(refused.subarray(PREFIX_BYTES + 5));
    d.push(
      Buffer.concat([
        call(2, '"yes"', { credential: 'good' }),
        call(3, '"three"', { credential: undefined }),
      ]),
    );
    expect(seen).toEqual([15, 5, 7]);
    expect(frames.map((f) => f.id)).toEqual([2, 3]);
  });

  it('reports a wrong preface, and stops at a head over the limit or a length too short for its head', () => {
    const wrong = decoder();
    wrong.d.push(Buffer.from('GET / HTTP/1.1\r\n'));
    expect(wrong.prefaces).toEqual([false]);
    expect(wrong.frames).toEqual([]);

    const long = decoder({ headLimit: 16 });
    long.d.push(Buffer.concat([PREFACE, call(1, '{}'), call(2, '{}')]));
    expect(long.violations).toEqual([
      expect.stringMatching(/frame head of \d+ bytes is over the limit of 16/),
    ]);
    expect(long.frames).toEqual([]);

    const short = decoder();
    const frame = Buffer.alloc(PREFIX_BYTES);
    frame.writeUInt32BE(7, 0);
    frame.writeUInt16BE(50, 9);
    short.d.push(Buffer.concat([PREFACE, frame]));
    expect(short.violations).toEqual(['a frame of 7 bytes cannot hold its 50-byte head']);
  });

  it('refuses to decode a truncated head, and to encode names over 255 bytes', () => {
    expect(decodeCallHead(Buffer.from([0, 0, 0, 1, 9, 65]))).toBeUndefined();
    expect(decodeCallHead(Buffer.from([0, 0]))).toBeUndefined();
    expect(() => call(1, '', { service: 's'.repeat(256) })).toThrow(RangeError);
  });
});
