/**
 * The replay guard of an RPC server: the nonces of the credentials it accepted, kept until those
 * credentials expire, so a credential presented again while it is valid is refused.
 *
 * A credential's nonce and expiry are signed together, so the pair names one credential: nonces are kept
 * in one generation per expiry (at most one per second of validity, since expiries are whole seconds),
 * and a whole generation is dropped at once when its expiry passes — no timer and no work per nonce. The
 * nonces servers see (16 base64url characters, 96 random bits) are stored as three 32-bit words in an
 * open-addressing table, outside the JavaScript heap: keeping a second's worth of nonces allocates
 * nothing the garbage collector has to trace, and a lookup compares numbers. Any other nonce text is kept
 * as a string.
 */

/** Characters of the nonces stored as words: 16 base64url characters, 96 bits. */
const PACKED_LENGTH = 16;
/** Words of a table slot: the 96 bits, then 1 when the slot is taken. */
const SLOT = 4;
/** Slots of a new generation's table (it doubles when half full). */
const FIRST_CAPACITY = 1024;

/** The 6-bit value of each base64url character code, -1 for other codes. */
const BASE64URL = new Int8Array(128).fill(-1);
for (const [index, char] of [
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
].entries()) {
  BASE64URL[char.charCodeAt(0)] = index;
}

/** The 6-bit value of the character at `index` of `text`, -1 when it is not base64url. */
function sextet(text: string, index: number): number {
  const code = text.charCodeAt(index);
  return code < 128 ? BASE64URL[code]! : -1;
}

/** The nonces of the credentials of one expiry. */
class Generation {
  /** Packed nonces stored. */
  private packed = 0;
  private words = new Int32Array(FIRST_CAPACITY * SLOT);
  private mask = FIRST_CAPACITY - 1;
  private texts: Set<string> | undefined;

  /** @param until when its credentials expire (epoch ms, clock skew included) */
  constructor(readonly until: number) {}

  /** Nonces stored. */
  get count(): number {
    return this.packed + (this.texts?.size ?? 0);
  }

  /** Adds the three words of a packed nonce; false when they were there already. */
  addPacked(a: number, b: number, c: number): boolean {
    const words = this.words;
    let slot = Math.imul(a ^ Math.imul(b, 0x9e3779b1) ^ Math.imul(c, 0x85ebca6b), 0xc2b2ae35) & this.mask;
    for (;;) {
      const at = slot * SLOT;
      if (words[at + 3] === 0) {
        words[at] = a;
        words[at + 1] = b;
        words[at + 2] = c;
        words[at + 3] = 1;
        if (++this.packed * 2 > this.mask + 1) this.grow();
        return true;
      }
      if (words[at] === a && words[at + 1] === b && words[at + 2] === c) return false;
      slot = (slot + 1) & this.mask;
    }
  }

  /** Adds a nonce that is not packed; false when it was there already. */
  addText(nonce: string): boolean {
    this.texts ??= new Set();
    if (this.texts.has(nonce)) return false;
    this.texts.add(nonce);
    return true;
  }

  /** Doubles the table (it is then at most a quarter full). */
  private grow(): void {
    const old = this.words;
    const capacity = (this.mask + 1) * 2;
    this.words = new Int32Array(capacity * SLOT);
    this.mask = capacity - 1;
    this.packed = 0;
    for (let at = 0; at < old.length; at += SLOT) {
      if (old[at + 3] === 1) this.addPacked(old[at]!, old[at + 1]!, old[at + 2]!);
    }
  }
}

/**
 * The nonces of credentials seen and not yet expired. Only credentials whose signature verified are
 * remembered, so only holders of the secret can add to it; it is bounded all the same.
 *
 * @example
 * const replays = new ReplayGuard();
 * if (!replays.remember(nonce, expiresAt + clockSkewMs, Date.now())) refuse('replayed');
 */
export class ReplayGuard {
  /** Generations by expiry (epoch ms). */
  private readonly generations = new Map<number, Generation>();
  /** The generation of the last nonce remembered: the next one most often has the same expiry. */
  private last: Generation | undefined;
  private count = 0;
  private nextSweep = 0;

  /** @param maxEntries most nonces kept; past it, a credential is refused until older ones expire */
  constructor(private readonly maxEntries = 1_000_000) {}

  /**
   * Remembers `nonce` until `until` (epoch ms); false when the same nonce was remembered with the same
   * `until` and that has not passed yet (a credential's nonce and expiry are signed together, so this is
   * the same credential presented again), and false while the guard is full.
   */
  remember(nonce: string, until: number, now: number): boolean {
    return this.rememberIn(nonce, 0, nonce.length, until, now);
  }

  /**
   * {@link remember} for the nonce that is `text` from `start` (inclusive) to `end` (exclusive): a server
   * reads it in place in the credential.
   */
  rememberIn(text: string, start: number, end: number, until: number, now: number): boolean {
    if (now >= this.nextSweep) this.sweep(now);
    if (until < now) return true;
    if (this.count >= this.maxEntries) {
      this.sweep(now);
      if (this.count >= this.maxEntries) return false;
    }
    let generation = this.last;
    if (generation === undefined || generation.until !== until) {
      generation = this.generations.get(until);
      if (generation === undefined) {
        generation = new Generation(until);
        this.generations.set(until, generation);
      }
      this.last = generation;
    }
    const packed = end - start === PACKED_LENGTH ? addPackedFrom(generation, text, start) : undefined;
    const fresh = packed ?? generation.addText(text.slice(start, end));
    if (fresh) this.count++;
    return fresh;
  }

  /** Number of nonces kept. */
  get size(): number {
    return this.count;
  }

  /** Drops the generations whose expiry passed; runs at most once a second, and when the guard is full. */
  private sweep(now: number): void {
    this.nextSweep = now + 1_000;
    for (const [until, generation] of this.generations) {
      if (until >= now) continue;
      this.generations.delete(until);
      this.count -= generation.count;
      if (this.last === generation) this.last = undefined;
    }
  }
}

/**
 * Adds the 16 base64url characters of `text` from `start` to `generation` as three words (five characters
 * in the low 30 bits of each, the last character's six bits spread over their top two bits). Undefined
 * when one of them is not base64url: the nonce is then kept as text.
 */
function addPackedFrom(generation: Generation, text: string, start: number): boolean | undefined {
  let a = 0;
  let b = 0;
  let c = 0;
  for (let i = 0; i < 5; i++) {
    const x = sextet(text, start + i);
    const y = sextet(text, start + 5 + i);
    const z = sextet(text, start + 10 + i);
    if ((x | y | z) < 0) return undefined;
    a = (a << 6) | x;
    b = (b << 6) | y;
    c = (c << 6) | z;
  }
  const last = sextet(text, start + 15);
  if (last < 0) return undefined;
  return generation.addPacked(a | ((last & 3) << 30), b | ((last & 12) << 28), c | ((last & 48) << 26));
}
