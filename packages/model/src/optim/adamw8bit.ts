/**
 * 8-bit AdamW: AdamW whose moments m and v are stored blockwise in 8 bits (bitsandbytes `AdamW8bit`,
 * Dettmers et al. ICLR 2022): each step decodes a block of 2048, updates it in f32, moves the weights
 * with the fresh f32 moments, and re-encodes. State: 2 bytes per parameter plus two f32 absmax per
 * block; tensors under 4096 elements keep f32 moments. Not here: the codec (blockwise-8bit.ts).
 */
import { adamwUpdate, type Tensor, ValueError, zeros } from "@tradeoffs/core-tensor";
import { ADAMW_DEFAULTS, type AdamWOptions } from "./adamw.js";
import {
  BLOCK_8BIT,
  Blockwise8bit,
  blockwise8bitBytes,
  MIN_8BIT_SIZE,
  QUANT_MAPS,
  type QuantMap,
} from "./blockwise-8bit.js";
import { allocateAll, clipScale, globalGradNorm, type Optimizer, zeroGrads } from "./optimizer.js";

/** 8-bit AdamW hyperparameters: AdamW's, plus the code map. */
export interface AdamW8bitOptions extends AdamWOptions {
  /** Code map of both moments (m signed, v unsigned); default `dynamic` as in bitsandbytes. */
  readonly map?: QuantMap;
}

/** One moment of one parameter: 8-bit blocks, or f32 for a small tensor. */
type Moment = Blockwise8bit | Tensor;

/** AdamW with blockwise 8-bit moments (`optim`: 2 B per parameter + 8 B per block of 2048). */
export class AdamW8bit implements Optimizer {
  /** The registry name. */
  readonly name = "adamw8bit";
  /** The tensors this optimizer updates. */
  readonly params: readonly Tensor[];
  /** The options with every default filled. */
  readonly options: Required<AdamW8bitOptions>;
  #m: Moment[] = [];
  #v: Moment[] = [];
  #t = 0;
  // One decoded block of m and of v: 16 KiB of JS workspace, outside the ledger.
  readonly #mBlock = new Float32Array(BLOCK_8BIT);
  readonly #vBlock = new Float32Array(BLOCK_8BIT);

  /** State bytes for one parameter of `shape`: 8-bit m and v with block scales, or f32 when small. */
  static stateBytes(shape: readonly number[]): number {
    const n = shape.reduce((a, b) => a * b, 1);
    return n < MIN_8BIT_SIZE ? 8 * n : 2 * blockwise8bitBytes(n);
  }

  /** An optimizer over `params` (throws a ValueError when there are none); state is allocated on the first step. */
  constructor(params: readonly Tensor[], options: AdamW8bitOptions = {}) {
    if (params.length === 0) throw new ValueError("AdamW8bit: no trainable parameters");
    if (options.map !== undefined && !QUANT_MAPS.includes(options.map))
      throw new ValueError(`AdamW8bit: unknown map '${options.map}'; use one of ${QUANT_MAPS.join(", ")}`);
    this.params = params;
    this.options = { ...ADAMW_DEFAULTS, map: "dynamic", ...options };
  }

  #allocate(): void {
    const { map } = this.options;
    const make = (p: Tensor, signed: boolean): Moment =>
      p.size < MIN_8BIT_SIZE
        ? zeros([p.size], { category: "optim" })
        : new Blockwise8bit(p.size, map, signed, "optim");
    const made = allocateAll(
      [...this.params.map((p) => [p, true] as const), ...this.params.map((p) => [p, false] as const)],
      ([p, signed]) => make(p, signed),
      (m) => m.dispose(),
    );
    this.#m = made.slice(0, this.params.length);
    this.#v = made.slice(this.params.length);
  }

  /** {@inheritDoc Optimizer.step} */
  step(lr = this.options.lr): number {
    if (this.#m.length === 0) this.#allocate();
    const norm = globalGradNorm(this.params);
    const { beta1, beta2, eps, weightDecay, clip } = this.options;
    const scale = clipScale(norm, clip);
    this.#t++;
    const bc1 = 1 - beta1 ** this.#t;
    const bc2 = 1 - beta2 ** this.#t;
    const m = this.#mBlock;
    const v = this.#vBlock;
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      const decay = p.rank >= 2 ? 1 - lr * weightDecay : 1;
      const mi = this.#m[i]!;
      const vi = this.#v[i]!;
      // A small tensor's f32 moments (both made so in #allocate) take AdamW's own kernel, adamwUpdate;
      // 8-bit ones are decoded a block at a time.
      if (!(mi instanceof Blockwise8bit && vi instanceof Blockwise8bit)) {
        adamwUpdate(p, p.grad, mi as Tensor, vi as Tensor, {
          lr,
          beta1,
          beta2,
          eps,
          decay,
          gradScale: scale,
          bc1,
          bc2,
        });
        return;
      }
      const w = p.data;
      const g = p.grad.data;
      for (let b = 0; b * BLOCK_8BIT < p.size; b++) {
        const len = mi.load(b, m);
        vi.load(b, v);
        const off = b * BLOCK_8BIT;
        for (let j = 0; j < len; j++) {
          const gj = g[off + j]! * scale;
          m[j] = beta1 * m[j]! + (1 - beta1) * gj;
          v[j] = beta2 * v[j]! + (1 - beta2) * gj * gj;
          w[off + j] = w[off + j]! * decay - (lr * (m[j]! / bc1)) / (Math.sqrt(v[j]! / bc2) + eps);
        }
        mi.store(b, m, len);
        vi.store(b, v, len);
      }
    });
    return norm;
  }

  /** {@inheritDoc Optimizer.zeroGrad} */
  zeroGrad(): void {
    zeroGrads(this.params);
  }

  /** {@inheritDoc Optimizer.dispose} */
  dispose(): void {
    this.zeroGrad();
    for (const t of [...this.#m, ...this.#v]) t.dispose();
    this.#m = [];
    this.#v = [];
  }
}
