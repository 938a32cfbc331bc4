/**
 * The one interface every optimizer implements (AdamW, 8-bit AdamW, Adafactor, SGD, Lion), and the
 * global-norm gradient clipping they share. Not here: the update rules (one file per optimizer) or
 * the registry of names users type (registry.ts).
 */
import { type Tensor, zeros } from "@tradeoffs/core-tensor";

/** Options every optimizer takes. */
export interface CommonOptimizerOptions {
  /** Peak learning rate (a training schedule may pass another to `step`). */
  readonly lr?: number;
  /** Weight decay; decoupled (AdamW, Lion, Adafactor) or L2 (SGD), on matrices (rank ≥ 2) only. */
  readonly weightDecay?: number;
  /** Clip the global gradient norm to this value (0 = off). */
  readonly clip?: number;
}

/** A training optimizer over a fixed list of parameters whose `.grad`s backward fills. */
export interface Optimizer {
  /** The registry name (`adamw`, `adamw8bit`, `adafactor`, `sgd`, `lion`). */
  readonly name: string;
  /** The tensors it updates (their `.grad`s are read, their data written). */
  readonly params: readonly Tensor[];
  /** One update from the accumulated `.grad`s at `lr`; returns the gradient norm before clipping. */
  step(lr?: number): number;
  /** Drop every parameter's gradient (frees the `grad` bytes). */
  zeroGrad(): void;
  /** Free the gradients and every state tensor. Idempotent. */
  dispose(): void;
}

/** Drop every parameter's gradient (what each optimizer's `zeroGrad` does). */
export function zeroGrads(params: readonly Tensor[]): void {
  for (const p of params) {
    p.grad?.dispose();
    p.grad = null;
  }
}

/** √Σ g² over every parameter's gradient. */
export function globalGradNorm(params: readonly Tensor[]): number {
  let sq = 0;
  for (const p of params) {
    if (!p.grad) continue;
    // An indexed loop (for…of over a typed array took 1.3 s of the default compare suite's profile),
    // with four partial sums: one chain of adds waits on each add's latency (MoE's 10M gradients on
    // `small`: 16 ms per step).
    const d = p.grad.data;
    const n4 = d.length & ~3;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let i = 0; i < n4; i += 4) {
      s0 += d[i]! * d[i]!;
      s1 += d[i + 1]! * d[i + 1]!;
      s2 += d[i + 2]! * d[i + 2]!;
      s3 += d[i + 3]! * d[i + 3]!;
    }
    for (let i = n4; i < d.length; i++) s0 += d[i]! * d[i]!;
    sq += s0 + s1 + (s2 + s3);
  }
  return Math.sqrt(sq);
}

/** The factor gradients are multiplied by so their global norm is at most `clip` (0 = off). */
export function clipScale(norm: number, clip: number): number {
  return clip > 0 && norm > clip ? clip / norm : 1;
}

/**
 * Allocate every state tensor or none: `make` runs once per item (a parameter); a failed allocation (an
 * OutOfMemoryError) frees what was made and rethrows, leaving the optimizer as it was.
 */
export function allocateAll<I, T>(items: readonly I[], make: (item: I) => T, free: (t: T) => void): T[] {
  const made: T[] = [];
  try {
    for (const item of items) made.push(make(item));
  } catch (e) {
    for (const t of made) free(t);
    throw e;
  }
  return made;
}

/**
 * One zero f32 `optim` tensor shaped like each parameter, all or none (`allocateAll`). On a backend
 * with resident memory (WASM) the state lives there, charged to `optim` as any allocation, so the
 * update kernel reads and writes it in place instead of copying it in and out on every step
 * (AdamW's two moments were 4 of its 7 per-step copies); elsewhere, or when there is no room,
 * ordinary storage.
 */
export function optimZeros(params: readonly Tensor[]): Tensor[] {
  return allocateAll(
    params,
    (p) => zeros(p.shape, { category: "optim", resident: true }),
    (t) => t.dispose(),
  );
}
