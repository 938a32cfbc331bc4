/**
 * A seeded random number generator (xoshiro128** seeded through splitmix32). Integer arithmetic only
 * for the raw stream, so sequences are identical across runs and machines; normals use Box–Muller
 * with V8's fdlibm-derived Math.log/cos, which are deterministic for a given Node release.
 */
import { ValueError } from "./errors.js";

/**
 * A seeded, reproducible random stream (xoshiro128**): the same seed gives the same numbers on every
 * machine. Pass one explicitly wherever randomness is needed; there is no global generator.
 */
export class Rng {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;
  #spare: number | null = null;
  /** The seed this generator was created with. */
  readonly seed: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed))
      throw new ValueError(`Rng seed must be a safe integer, got ${seed}`, { seed });
    this.seed = seed;
    let x = (seed ^ Math.floor(seed / 2 ** 32)) >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#s0 = next();
    this.#s1 = next();
    this.#s2 = next();
    this.#s3 = next();
  }

  /** Next raw 32-bit unsigned integer. */
  nextU32(): number {
    const s1 = this.#s1;
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3 >>> 0, 11);
    this.#s0 >>>= 0;
    this.#s1 >>>= 0;
    this.#s2 >>>= 0;
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Integer uniform in [0, n). */
  int(n: number): number {
    if (!(Number.isInteger(n) && n > 0))
      throw new ValueError(`Rng.int(n) needs a positive integer, got ${n}`);
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box–Muller, both values used). */
  normal(): number {
    if (this.#spare !== null) {
      const s = this.#spare;
      this.#spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /**
   * `dst[i] = mean + std · normal()` for every i: the same stream as calling `normal()` in a loop,
   * with the generator's state in locals (large initialisations run several times faster).
   */
  fillNormal(dst: Float32Array | Float64Array, mean = 0, std = 1): void {
    let s0 = this.#s0;
    let s1 = this.#s1;
    let s2 = this.#s2;
    let s3 = this.#s3;
    const u32 = (): number => {
      const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
      const t = (s1 << 9) >>> 0;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3 >>> 0, 11);
      s0 >>>= 0;
      s1 >>>= 0;
      s2 >>>= 0;
      return result;
    };
    let i = 0;
    const n = dst.length;
    if (n > 0 && this.#spare !== null) {
      dst[i++] = mean + std * this.#spare;
      this.#spare = null;
    }
    const TWO_PI = 2 * Math.PI;
    while (i < n) {
      let u = 0;
      while (u === 0) u = u32() / 4294967296;
      const v = u32() / 4294967296;
      const r = Math.sqrt(-2 * Math.log(u));
      dst[i++] = mean + std * (r * Math.cos(TWO_PI * v));
      if (i < n) dst[i++] = mean + std * (r * Math.sin(TWO_PI * v));
      else this.#spare = r * Math.sin(TWO_PI * v);
    }
    this.#s0 = s0;
    this.#s1 = s1;
    this.#s2 = s2;
    this.#s3 = s3;
  }

  /** Exponential with the given rate (for Poisson arrivals). */
  exponential(rate: number): number {
    let u = 0;
    while (u === 0) u = this.uniform();
    return -Math.log(u) / rate;
  }

  /** A new generator whose stream is independent of this one's future draws. */
  fork(): Rng {
    return new Rng(this.nextU32() * 65536 + (this.nextU32() & 0xffff));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
