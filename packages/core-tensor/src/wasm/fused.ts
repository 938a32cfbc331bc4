/**
 * The WASM backend's step kernels on raw arrays (assembly/fused.ts): residual add, SiLU and
 * SiLU(gate)·up, SiLU's backward, RMSNorm and its backward, RoPE, row softmax, argmax, temperature sampling and the AdamW update. An
 * operand already in linear memory (resident) is used in place; any other is staged through per-call
 * workspace (charged to `tmp/wasm`). Below a size where staging costs more than the SIMD saves, the JS
 * kernel runs instead, so results agree with JS within each kernel's tolerance at every size.
 * Not here: tensors or autograd (ops/), the JS references (kernels/).
 */
import type { Backend } from "../backend.js";
import type { TypedArray } from "../dtype.js";
import * as ew from "../kernels/elementwise.js";
import * as fusedJs from "../kernels/fused.js";
import * as rows from "../kernels/rows.js";
import { wasmModule } from "./loader.js";
import { Arena, startedWasmRuntime, type WasmRuntime, wasmRuntime, withWorkspace } from "./runtime.js";
import { webAssembly } from "./wasm-api.js";

/** The exports of assembly/fused.ts and flash-backward.ts (byte addresses, element counts). */
interface FusedExports {
  addF32(a: number, b: number, out: number, n: number): void;
  mulF32(a: number, b: number, out: number, n: number): void;
  siluMulF32(g: number, u: number, out: number, n: number): void;
  rmsNormF32(x: number, w: number, out: number, rows: number, cols: number, eps: number, rstd: number): void;
  rmsNormBackwardF32(
    x: number,
    w: number,
    rstd: number,
    g: number,
    rows: number,
    cols: number,
    gx: number,
    gw: number,
  ): void;
  ropeF32(
    x: number,
    out: number,
    outer: number,
    T: number,
    D: number,
    pos: number,
    nPos: number,
    theta: number,
    inverse: number,
    table: number,
  ): void;
  softmaxF32(x: number, out: number, rows: number, cols: number, log: number): void;
  maskedSoftmaxF32(
    x: number,
    out: number,
    rows: number,
    tq: number,
    tk: number,
    scale: number,
    causal: number,
    window: number,
  ): void;
  argmaxF32(x: number, rows: number, cols: number, out: number): void;
  sampleF32(
    x: number,
    rows: number,
    cols: number,
    temperature: number,
    u: number,
    out: number,
    scratch: number,
  ): void;
  adamwF32(
    p: number,
    g: number,
    m: number,
    v: number,
    n: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    decay: number,
    gradScale: number,
    bc1: number,
    bc2: number,
  ): void;
  expF32(x: number, out: number, n: number): void;
  siluBackwardF32(g: number, x: number, out: number, n: number): void;
  /** V8's Math.exp (assembly/exp64.ts), exported for its bit-identity test. */
  expF64(x: number): number;
  expF64Pairs(x: number, out: number, n: number): void;
  zeroBytes(at: number, bytes: number): void;
  copyBytes(dst: number, src: number, bytes: number): void;
}

/** The kernels `fusedKernels` dispatches, by name. */
export type FusedKernelName =
  | "add"
  | "mul"
  | "silu"
  | "siluMul"
  | "siluBackward"
  | "rmsNorm"
  | "rmsNormBackward"
  | "rope"
  | "softmax"
  | "maskedSoftmax"
  | "argmax"
  | "sample"
  | "adamw";

/**
 * Elements (of the largest operand) from which each kernel runs in WASM rather than JS. A call costs
 * a few microseconds before any work (staging copies, the workspace charge), so the cheap per-element
 * kernels (add, argmax) need more elements to pay than the exp-heavy ones. Crossovers read off
 * `pnpm bench fused` on the project's machine (2 cores, shared), rounded to a power of two.
 */
export const FUSED_MIN_ELEMENTS: Readonly<Record<FusedKernelName, number>> = Object.freeze({
  add: 4096,
  mul: 4096,
  // A decode step's FFN width (512 at `small`): silu JS 5.2 µs vs WASM 2.6, siluMul 6.3 vs 2.9; at 256
  // 2.6 vs 1.9 and 3.0 vs 2.0; at 128 siluMul 1.3 vs 1.7. RMSNorm: 1.9 vs 1.8 at 512, 1.0 vs 1.5 at
  // 256 (2026-11-28, shared machine, load ≈ 2–3).
  silu: 256,
  siluMul: 256,
  // f64 pairs with V8's exp (bit-identical to the JS loop): 128 elements JS 1.6 µs vs WASM 2.1, 256
  // 3.2 vs 3.2, 512 6.4 vs 5.2, 131072 (a training step's FFN gate) 1632 vs 997 (2026-11-28, load ≈ 2).
  siluBackward: 512,
  rmsNorm: 512,
  // f64 like the JS loop (bit-identical). 192-wide rows, JS vs WASM µs: 1 row 1.9 vs 5.6, 3 rows 6.4 vs
  // 7.7, 6 rows 7.3 vs 6.2, 256 rows (a training step's norm) 584 vs 117 (2026-11-28, load ≈ 1).
  rmsNormBackward: 1024,
  rope: 2048,
  softmax: 512,
  // A decode step's scores (6 heads × 64 keys, tq = 1): JS 4.1 µs, WASM 2.7 µs; at 256 elements 2.9
  // vs 2.1, at 128 1.5 vs 1.9 (2026-11-28, shared machine, load ≈ 3).
  maskedSoftmax: 256,
  // The JS loop (~2 ns per element) beat the WASM one (copy in, SIMD max, scan) at every size measured.
  argmax: Number.POSITIVE_INFINITY,
  sample: 1024,
  adamw: 4096,
});

// These kernels run on the calling thread only, so they are called directly on a second instance of
// the module over the runtime's memory (as each helper thread has one): no per-call argument array.
const instances = new WeakMap<WasmRuntime, FusedExports>();

/** The step kernels of `rt`'s module, instantiated over its memory on first use. */
export function fusedExports(rt: WasmRuntime): FusedExports {
  let ex = instances.get(rt);
  if (!ex) {
    const inst = new webAssembly!.Instance(wasmModule(rt.flavor), { env: { memory: rt.memory } });
    ex = inst.exports as unknown as FusedExports;
    instances.set(rt, ex);
  }
  return ex;
}

/**
 * Zero `bytes` bytes of `rt`'s linear memory from `at` (a bulk `memory.fill`): a JS fill over the shared
 * memory stores element by element and ran 5–10× slower (the GEMM's zeroed C took ~1% of `pnpm compare`).
 */
export function wasmZero(rt: WasmRuntime, at: number, bytes: number): void {
  if (bytes > 0) fusedExports(rt).zeroBytes(at, bytes);
}

/**
 * `dst.set(src.subarray(srcStart, srcStart + count), dstStart)` for arrays of one element size. When
 * both are views of the started WASM runtime's memory (resident storages), one `memory.copy` kernel
 * does it: `TypedArray.set` between views of shared memory copies element by element, ~3× slower (a
 * decode step's KV gather). Otherwise `set` itself.
 */
export function copyElements(
  dst: TypedArray,
  dstStart: number,
  src: TypedArray,
  srcStart: number,
  count: number,
): void {
  const rt = startedWasmRuntime();
  const size = dst.BYTES_PER_ELEMENT;
  const to = rt?.addressOf(dst);
  const from = to === undefined ? undefined : rt!.addressOf(src);
  if (
    from === undefined ||
    size !== src.BYTES_PER_ELEMENT ||
    count < 0 ||
    dstStart < 0 ||
    srcStart < 0 ||
    dstStart + count > dst.length ||
    srcStart + count > src.length
  ) {
    dst.set(src.subarray(srcStart, srcStart + count), dstStart);
    return;
  }
  if (count > 0) fusedExports(rt!).copyBytes(to! + dstStart * size, from + srcStart * size, count * size);
}

type View = Float32Array | Float64Array | Int32Array;

/** Operands of one call: resident ones by address, others laid out in an arena and copied. */
class Staging {
  readonly rt: WasmRuntime;
  readonly #arena: Arena;
  readonly #in: { view: View; at: number }[] = [];
  readonly #out: { view: View; at: number }[] = [];

  constructor(rt: WasmRuntime) {
    this.rt = rt;
    this.#arena = new Arena(rt.scratchBase);
  }

  /** Address of an input (copied in before the call unless resident). */
  input(view: View): number {
    const res = this.rt.addressOf(view);
    if (res !== undefined) return res;
    const at = this.#arena.take(view.byteLength);
    this.#in.push({ view, at });
    return at;
  }

  /** Address of an output (copied out after the call unless resident). */
  output(view: View): number {
    const res = this.rt.addressOf(view);
    if (res !== undefined) return res;
    const at = this.#arena.take(view.byteLength);
    this.#out.push({ view, at });
    return at;
  }

  /** Address of both an input and the output written over it (in-place kernels). */
  inout(view: View): number {
    const at = this.input(view);
    if (this.rt.addressOf(view) === undefined) this.#out.push({ view, at });
    return at;
  }

  /** Addresses of the first n elements of input `x` and output `out`: one in-place slot when x is out. */
  inputOutput(x: Float32Array, out: Float32Array, n: number): [number, number] {
    if (x !== out) return [this.input(x.subarray(0, n)), this.output(out.subarray(0, n))];
    const at = this.inout(x.subarray(0, n));
    return [at, at];
  }

  /** Scratch bytes with no copy. */
  scratch(bytes: number): number {
    return this.#arena.take(bytes);
  }

  /** Copy the inputs in, run `fn` on the kernels, copy the outputs back. */
  run(fn: (k: FusedExports) => void): void {
    const k = fusedExports(this.rt);
    withWorkspace(this.rt, this.#arena, ({ u8 }) => {
      for (const { view, at } of this.#in) u8.set(bytes(view), at);
      fn(k);
      for (const { view, at } of this.#out) bytes(view).set(u8.subarray(at, at + view.byteLength));
    });
  }
}

function bytes(v: View): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** out = a + b (or a · b for `mul`) over out.length elements: same shapes, e.g. the residual add. */
export function wasmAdd(
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  rt: WasmRuntime = wasmRuntime(),
  op: "add" | "mul" = "add",
): void {
  const n = out.length;
  const s = new Staging(rt);
  const ap = s.input(a.subarray(0, n));
  const bp = s.input(b.subarray(0, n));
  const op_ = s.output(out);
  s.run((k) => (op === "add" ? k.addF32 : k.mulF32)(ap, bp, op_, n));
}

/** out = silu(x) = x / (1 + e^−x) over x.length elements. */
export function wasmSilu(x: Float32Array, out: Float32Array, rt: WasmRuntime = wasmRuntime()): void {
  const s = new Staging(rt);
  const xp = s.input(x);
  const op_ = s.output(out.subarray(0, x.length));
  s.run((k) => k.siluMulF32(xp, 0, op_, x.length));
}

/** `Backend.siluMul`: out = silu(gate) ⊙ up. */
export function wasmSiluMul(
  gate: Float32Array,
  up: Float32Array,
  out: Float32Array,
  rt: WasmRuntime = wasmRuntime(),
): void {
  const s = new Staging(rt);
  const gp = s.input(gate);
  const up_ = s.input(up.subarray(0, gate.length));
  const op_ = s.output(out.subarray(0, gate.length));
  s.run((k) => k.siluMulF32(gp, up_, op_, gate.length));
}

/** `Backend.siluBackward` in WASM: out = g · silu′(x), bit-identical to kernels/fused.ts `siluBackward`. */
export function wasmSiluBackward(
  g: Float32Array,
  x: Float32Array,
  out: Float32Array,
  rt: WasmRuntime = wasmRuntime(),
): void {
  const n = out.length;
  const s = new Staging(rt);
  const gp = s.input(g.subarray(0, n));
  const xp = s.input(x.subarray(0, n));
  const op_ = s.output(out);
  s.run((k) => k.siluBackwardF32(gp, xp, op_, n));
}

/** `Backend.rmsNorm` in WASM (rstd written when given). */
export function wasmRmsNorm(
  x: Float32Array,
  w: Float32Array,
  out: Float32Array,
  nRows: number,
  cols: number,
  eps: number,
  rstd?: Float32Array,
  rt: WasmRuntime = wasmRuntime(),
): void {
  const n = nRows * cols;
  const s = new Staging(rt);
  const xp = s.input(x.subarray(0, n));
  const wp = s.input(w.subarray(0, cols));
  const op_ = s.output(out.subarray(0, n));
  const rp = rstd ? s.output(rstd.subarray(0, nRows)) : 0;
  s.run((k) => k.rmsNormF32(xp, wp, op_, nRows, cols, eps, rp));
}

/** `Backend.rmsNormBackward` in WASM: bit-identical to kernels/rows.ts `rmsNormBackward`. */
export function wasmRmsNormBackward(a: rows.RmsNormBackwardArgs, rt: WasmRuntime = wasmRuntime()): void {
  const n = a.rows * a.cols;
  const s = new Staging(rt);
  const xp = s.input(a.x.subarray(0, n));
  const wp = s.input(a.w.subarray(0, a.cols));
  const rp = s.input(a.rstd.subarray(0, a.rows));
  const gp = s.input(a.g.subarray(0, n));
  const gxp = a.gx ? s.output(a.gx.subarray(0, n)) : 0;
  const gwp = a.gw ? s.inout(a.gw.subarray(0, a.cols)) : 0;
  s.run((k) => k.rmsNormBackwardF32(xp, wp, rp, gp, a.rows, a.cols, gxp, gwp));
}

/** `Backend.rope` in WASM (half-split pairs; out may be x). */
export function wasmRope(
  x: Float32Array,
  out: Float32Array,
  outer: number,
  T: number,
  D: number,
  positions: ArrayLike<number>,
  theta: number,
  inverse: boolean,
  rt: WasmRuntime = wasmRuntime(),
): void {
  const n = outer * T * D;
  const s = new Staging(rt);
  const pos = Float64Array.from(positions);
  const [xp, op_] = s.inputOutput(x, out, n);
  const pp = s.input(pos);
  const table = s.scratch(pos.length * D * 4);
  s.run((k) => k.ropeF32(xp, op_, outer, T, D, pp, pos.length, theta, inverse ? 1 : 0, table));
}

/** `Backend.softmax` in WASM (log-softmax when `log`). */
export function wasmSoftmax(
  x: Float32Array,
  out: Float32Array,
  nRows: number,
  cols: number,
  log: boolean,
  rt: WasmRuntime = wasmRuntime(),
): void {
  const n = nRows * cols;
  const s = new Staging(rt);
  const xp = s.input(x.subarray(0, n));
  const op_ = s.output(out.subarray(0, n));
  s.run((k) => k.softmaxF32(xp, op_, nRows, cols, log ? 1 : 0));
}

/** `Backend.maskedSoftmax` in WASM (see `MaskedSoftmaxArgs`; out may be x). */
export function wasmMaskedSoftmax(a: fusedJs.MaskedSoftmaxArgs, rt: WasmRuntime = wasmRuntime()): void {
  const n = a.rows * a.tk;
  const s = new Staging(rt);
  const [xp, op_] = s.inputOutput(a.x, a.out, n);
  s.run((k) => k.maskedSoftmaxF32(xp, op_, a.rows, a.tq, a.tk, a.scale, a.causal ? 1 : 0, a.window ?? 0));
}

/** `Backend.argmax` in WASM (first index on ties). */
export function wasmArgmax(
  x: Float32Array,
  nRows: number,
  cols: number,
  out: Int32Array,
  rt: WasmRuntime = wasmRuntime(),
): void {
  const n = nRows * cols;
  const s = new Staging(rt);
  const xp = s.input(x.subarray(0, n));
  const op_ = s.output(out.subarray(0, nRows));
  s.run((k) => k.argmaxF32(xp, nRows, cols, op_));
}

/** `Backend.sample` in WASM (see `SampleArgs`). */
export function wasmSample(a: fusedJs.SampleArgs, rt: WasmRuntime = wasmRuntime()): void {
  const n = a.rows * a.cols;
  const s = new Staging(rt);
  const xp = s.input(a.logits.subarray(0, n));
  const up = s.input(Float64Array.from({ length: a.rows }, (_, r) => a.uniforms[r] ?? 0));
  const op_ = s.output(a.out.subarray(0, a.rows));
  const scratch = s.scratch(a.cols * 4);
  // biome-ignore lint/complexity/useMathMinMax: a NaN temperature must become 0 (greedy), as in the reference
  const t = a.temperature > 0 ? a.temperature : 0;
  s.run((k) => k.sampleF32(xp, a.rows, a.cols, t, up, op_, scratch));
}

/** `Backend.adamw` in WASM: one pass over p, g, m, v, bit-equal to the JS reference. */
export function wasmAdamw(a: fusedJs.AdamWArgs, rt: WasmRuntime = wasmRuntime()): void {
  const n = a.param.length;
  const s = new Staging(rt);
  const pp = s.inout(a.param);
  const gp = s.input(a.grad.subarray(0, n));
  const mp = s.inout(a.m.subarray(0, n));
  const vp = s.inout(a.v.subarray(0, n));
  s.run((k) =>
    k.adamwF32(pp, gp, mp, vp, n, a.lr, a.beta1, a.beta2, a.eps, a.decay, a.gradScale, a.bc1, a.bc2),
  );
}

/** e^x over x.length elements in WASM (the kernel's exp, exported for its accuracy test). */
export function wasmExp(x: Float32Array, out: Float32Array, rt: WasmRuntime = wasmRuntime()): void {
  const s = new Staging(rt);
  const xp = s.input(x);
  const op_ = s.output(out.subarray(0, x.length));
  s.run((k) => k.expF32(xp, op_, x.length));
}

type FusedKernels = Pick<
  Backend,
  | "binary"
  | "unary"
  | "rmsNorm"
  | "rope"
  | "softmax"
  | "maskedSoftmax"
  | "argmax"
  | "siluMul"
  | "siluBackward"
  | "rmsNormBackward"
  | "sample"
  | "adamw"
>;

/**
 * The step kernels the WASM backend object spreads over the JS ones: each runs in WASM from its
 * `minElements` entry (default FUSED_MIN_ELEMENTS) and on the JS kernel below it, and on JS for any
 * case the WASM kernels do not cover (broadcasting or other binary ops, unary maps other than silu).
 */
export function fusedKernels(
  minElements: Readonly<Record<FusedKernelName, number>> = FUSED_MIN_ELEMENTS,
): FusedKernels {
  const big = (k: FusedKernelName, n: number) => n >= minElements[k];
  return {
    binary: (op, a, aShape, b, bShape, out) =>
      (op === "add" || op === "mul") &&
      big(op, out.length) &&
      a.length === out.length &&
      sameShape(aShape, bShape)
        ? wasmAdd(a, b, out, wasmRuntime(), op)
        : ew.binary(op, a, aShape, b, bShape, out),
    unary: (op, x, out) => (op === "silu" && big("silu", x.length) ? wasmSilu(x, out) : ew.unary(op, x, out)),
    rmsNorm: (x, w, out, r, c, eps, rstd) =>
      big("rmsNorm", r * c)
        ? wasmRmsNorm(x, w, out, r, c, eps, rstd)
        : rows.rmsNorm(x, w, out, r, c, eps, rstd),
    rope: (x, out, outer, T, D, pos, theta, inv) =>
      big("rope", outer * T * D)
        ? wasmRope(x, out, outer, T, D, pos, theta, inv)
        : rows.rope(x, out, outer, T, D, pos, theta, inv),
    softmax: (x, out, r, c, log) =>
      big("softmax", r * c) ? wasmSoftmax(x, out, r, c, log) : rows.softmax(x, out, r, c, log),
    maskedSoftmax: (a) =>
      big("maskedSoftmax", a.rows * a.tk) ? wasmMaskedSoftmax(a) : fusedJs.maskedSoftmax(a),
    argmax: (x, r, c, out) => (big("argmax", r * c) ? wasmArgmax(x, r, c, out) : rows.argmax(x, r, c, out)),
    siluMul: (g, u, out) => (big("siluMul", g.length) ? wasmSiluMul(g, u, out) : fusedJs.siluMul(g, u, out)),
    rmsNormBackward: (a) =>
      big("rmsNormBackward", a.rows * a.cols) ? wasmRmsNormBackward(a) : rows.rmsNormBackward(a),
    siluBackward: (g, x, out) =>
      big("siluBackward", out.length) ? wasmSiluBackward(g, x, out) : fusedJs.siluBackward(g, x, out),
    // Greedy sampling is an argmax: it stays on JS like `argmax`.
    sample: (a) => (a.temperature > 0 && big("sample", a.rows * a.cols) ? wasmSample(a) : fusedJs.sample(a)),
    adamw: (a) => (big("adamw", a.param.length) ? wasmAdamw(a) : fusedJs.adamw(a)),
  };
}
