/**
 * The kernel interface. A backend is a small set of kernels on raw Float32Arrays; ops (ops.ts) do the
 * shape logic, allocation and autograd on top. `JS` is the baseline; a faster backend may override
 * any subset and inherit the rest (`{ ...jsBackend, matmul }`).
 */
import { ValueError } from "./errors.js";
import * as ew from "./kernels/elementwise.js";
import { type MatmulArgs, matmulBlocked } from "./kernels/matmul.js";
import * as rows from "./kernels/rows.js";

export interface Backend {
  /** The CLI word of the backend strategy (`JS`, `WASM`). */
  readonly name: string;
  /** Batched C = op(A)·op(B); see `MatmulArgs`. */
  matmul(args: MatmulArgs): void;
  binary(
    op: ew.BinaryOp,
    a: Float32Array,
    aShape: readonly number[],
    b: Float32Array,
    bShape: readonly number[],
    out: Float32Array,
  ): void;
  unary(op: ew.UnaryOp, x: Float32Array, out: Float32Array): void;
  reduce(op: ew.ReduceOp, x: Float32Array, outer: number, n: number, inner: number, out: Float32Array): void;
  softmax(x: Float32Array, out: Float32Array, rows: number, cols: number, log: boolean): void;
  rmsNorm(
    x: Float32Array,
    w: Float32Array,
    out: Float32Array,
    rows: number,
    cols: number,
    eps: number,
    rstd?: Float32Array,
  ): void;
  layerNorm(
    x: Float32Array,
    w: Float32Array,
    b: Float32Array,
    out: Float32Array,
    rows: number,
    cols: number,
    eps: number,
    mean?: Float32Array,
    rstd?: Float32Array,
  ): void;
  rope(
    x: Float32Array,
    out: Float32Array,
    outer: number,
    T: number,
    D: number,
    positions: ArrayLike<number>,
    theta: number,
    inverse: boolean,
  ): void;
  gather(table: Float32Array, rows: number, cols: number, ids: ArrayLike<number>, out: Float32Array): void;
  crossEntropy(
    logits: Float32Array,
    targets: ArrayLike<number>,
    rows: number,
    cols: number,
    losses: Float32Array,
    ignoreIndex: number,
  ): number;
  topk(
    x: Float32Array,
    rows: number,
    cols: number,
    k: number,
    values: Float32Array,
    indices: Int32Array,
  ): void;
  argmax(x: Float32Array, rows: number, cols: number, out: Int32Array): void;
}

/** The pure-JavaScript backend: cache-blocked matmul, straightforward loops elsewhere. */
export const jsBackend: Backend = Object.freeze({
  name: "JS",
  matmul: matmulBlocked,
  binary: ew.binary,
  unary: ew.unary,
  reduce: ew.reduce,
  softmax: rows.softmax,
  rmsNorm: rows.rmsNorm,
  layerNorm: rows.layerNorm,
  rope: rows.rope,
  gather: rows.gather,
  crossEntropy: rows.crossEntropy,
  topk: rows.topk,
  argmax: rows.argmax,
});

const registry = new Map<string, Backend>([["js", jsBackend]]);
let active: Backend = jsBackend;

/** Make a backend selectable by name (case-insensitive). */
export function registerBackend(backend: Backend): void {
  registry.set(backend.name.toLowerCase(), backend);
}

/** The backend kernels run on now. */
export function getBackend(): Backend {
  return active;
}

/** Switch backends by name or object; returns the previous one. */
export function setBackend(backend: Backend | string): Backend {
  const prev = active;
  if (typeof backend === "string") {
    const b = registry.get(backend.toLowerCase());
    if (!b) {
      throw new ValueError(
        `unknown backend '${backend}'; available: ${[...registry.values()].map((x) => x.name).join(", ")}`,
        {
          backend,
        },
      );
    }
    active = b;
  } else active = backend;
  return prev;
}

/** Run `fn` with `backend` active (restored afterwards). */
export function withBackend<T>(backend: Backend | string, fn: () => T): T {
  const prev = setBackend(backend);
  try {
    return fn();
  } finally {
    active = prev;
  }
}

export function listBackends(): readonly Backend[] {
  return [...registry.values()];
}

export type { MatmulArgs };
