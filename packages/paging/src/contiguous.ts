/**
 * `Contiguous`: each sequence reserves K/V storage for `maxSeq` tokens up front, as servers did before
 * paging. Layout per layer: [B, Hkv, maxSeq, D]; `read()` gathers the first T positions into a `tmp`
 * tensor [B, Hkv, T, D].
 */
import {
  defineStrategy,
  empty,
  type KvCache,
  type KvCacheSpec,
  type KvStore,
  type Tensor,
  ValueError,
} from "@tradeoffs/core-tensor";

export class ContiguousKvCache implements KvCache {
  readonly spec: KvCacheSpec;
  #length = 0;
  readonly #k: KvStore[] = [];
  readonly #v: KvStore[] = [];
  /** Positions appended per layer since the last `advance()`. */
  readonly #pending: number[];

  constructor(spec: KvCacheSpec) {
    for (const [k, v] of Object.entries({
      batch: spec.batch,
      layers: spec.layers,
      kvHeads: spec.kvHeads,
      headDim: spec.headDim,
      maxSeq: spec.maxSeq,
    })) {
      if (!(Number.isInteger(v) && v >= 1))
        throw new ValueError(`KV cache: ${k} must be a positive integer, got ${v}`);
    }
    this.spec = spec;
    const vectors = spec.batch * spec.kvHeads * spec.maxSeq;
    try {
      for (let l = 0; l < spec.layers; l++) {
        this.#k.push(spec.dtype.allocate(vectors, spec.headDim, "kv"));
        this.#v.push(spec.dtype.allocate(vectors, spec.headDim, "kv"));
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
    this.#pending = new Array<number>(spec.layers).fill(0);
  }

  get length(): number {
    return this.#length;
  }

  /** Bytes reserved in the ledger. */
  get bytes(): number {
    return [...this.#k, ...this.#v].reduce((s, x) => s + x.bytes, 0);
  }

  append(layer: number, k: Tensor, v: Tensor): void {
    const { batch: B, kvHeads: H, headDim: D, maxSeq } = this.spec;
    const t = k.dim(2);
    if (k.shape.join() !== [B, H, t, D].join() || v.shape.join() !== k.shape.join()) {
      throw new ValueError(
        `KV cache: append needs k, v [${B}, ${H}, T, ${D}], got [${k.shape}] and [${v.shape}]`,
      );
    }
    const start = this.#length + this.#pending[layer]!;
    if (start + t > maxSeq) {
      throw new ValueError(
        `KV cache: ${start + t} tokens exceed the reserved maximum of ${maxSeq}; build the cache with a larger maxSeq`,
      );
    }
    const kd = k.data;
    const vd = v.data;
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++)
        for (let i = 0; i < t; i++) {
          const src = ((b * H + h) * t + i) * D;
          const dst = (b * H + h) * maxSeq + start + i;
          this.#k[layer]!.write(dst, kd, src);
          this.#v[layer]!.write(dst, vd, src);
        }
    this.#pending[layer] = this.#pending[layer]! + t;
  }

  read(layer: number): { k: Tensor; v: Tensor } {
    const { batch: B, kvHeads: H, headDim: D, maxSeq } = this.spec;
    const T = this.#length + this.#pending[layer]!;
    const k = empty([B, H, T, D]);
    const v = empty([B, H, T, D]);
    const kd = k.data;
    const vd = v.data;
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++)
        for (let i = 0; i < T; i++) {
          const src = (b * H + h) * maxSeq + i;
          const dst = ((b * H + h) * T + i) * D;
          this.#k[layer]!.read(src, kd, dst);
          this.#v[layer]!.read(src, vd, dst);
        }
    return { k, v };
  }

  advance(tokens: number): void {
    if (this.#pending.some((p) => p !== tokens)) {
      throw new ValueError(`KV cache: advance(${tokens}) but layers appended [${this.#pending}]`);
    }
    this.#length += tokens;
    this.#pending.fill(0);
  }

  dispose(): void {
    for (const s of [...this.#k, ...this.#v]) s.dispose();
    this.#k.length = 0;
    this.#v.length = 0;
  }
}

export const contiguous = defineStrategy({
  name: "Contiguous",
  slot: "kv-memory",
  description: "Reserve K/V storage for the maximum length of every sequence up front",
  options: {},
  // Reserve-max: a sequence holds every token it will reach (prompt + generate) from the start.
  plan: (p) => ({ ...p, kv: { ...p.kv, reservedTokens: (t: number) => t } }),
  exec: () => ({ createCache: (spec: KvCacheSpec) => new ContiguousKvCache(spec) }),
});
