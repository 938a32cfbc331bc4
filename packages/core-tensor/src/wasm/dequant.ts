/**
 * Dequantising matmuls on the WASM kernels for the quant package's packed formats, with the JS naive
 * oracle (`dequantRowNaive`) beside them. y [m, n] = x [m, k] · Wᵀ with W [n, k] packed row by row:
 * - `q8_0`: GGUF Q8_0, per 32 values 34 bytes [f16 d, 32 × i8]; value = d·q.
 * - `q4_0`: GGUF Q4_0, per 32 values 18 bytes [f16 d, 16 B]; byte t: element t in the low nibble, t+16
 *   in the high nibble; value = d·(nibble − 8).
 * - `nibble`: ⌈k/2⌉ bytes per row, byte t: element 2t in the LOW nibble, 2t+1 in the high one (the
 *   quant package's INT4 / NF4 layout); value = codebook[code]·scales[row, ⌊col / group⌋] with f32
 *   scales [n, ⌈k / group⌉] (the last group of a row may be shorter).
 * - `i8`: k signed bytes per row; value = q·scales[row, ⌊col / group⌋] (quant's INT8; group = k for
 *   one scale per row).
 * - `f16` / `bf16`: k 16-bit floats per row (quant's FP16 / BF16), any m through the 16-bit GEMV.
 * - `f32x8`: f32 in the tiled layout of src/f32x8.ts (quant's FP32x8), any m through its GEMV.
 * Packed bytes and scales already in linear memory (resident weights, resident.ts) are read in
 * place; products of up to GEMV_MAX_M rows run the fused GEMV kernels (gemv.ts, gemv-nibble.ts,
 * gemv16.ts) split by rows. Double-quantised nibble scales (NF4) are decoded by the GEMV kernel; the
 * other paths decode them into the call's workspace.
 * Not here: quantising, autograd, or the Tensor-level linear layer (the quant package's job).
 */

import type { DequantMatmulArgs, DequantWeight, DoubleQuantScales } from "../backend.js";
import { bf16ToF32, f16ToF32 } from "../dtype.js";
import { ShapeError, ValueError } from "../errors.js";
import { F32X8_BLOCK_ROWS, f32x8Floats, unpackF32x8Rows } from "../f32x8.js";
import type { WasmFlavor } from "./flavor.js";
import { wasmFlavor } from "./flavor.js";
import { GEMV_MAX_M, gemvThreads, packedChunkRows, splitArgs } from "./matmul.js";
import { Arena, type KernelName, type WasmRuntime, wasmRuntime, withWorkspace } from "./runtime.js";

/** The packed formats the WASM dequantising kernels read. */
export type DequantFormat = DequantWeight["format"];
/**
 * Format codes of the row-decoding kernels (assembly/dequant.ts `dequantRow`). `f32x8` has none: its
 * rows are placed by n too (`unpackF32x8Rows` decodes them in JS).
 */
const FORMAT_CODE: Record<Exclude<DequantFormat, "f32x8">, number> = {
  q8_0: 0,
  q4_0: 1,
  nibble: 2,
  i8: 3,
  f16: 4,
  bf16: 5,
};
const FORMATS: readonly DequantFormat[] = ["q8_0", "q4_0", "nibble", "i8", "f16", "bf16", "f32x8"];
/** Formats whose products of any m run their GEMV kernel (no decode-and-dot kernel). */
type GemvOnlyFormat = "f16" | "bf16" | "f32x8";
const gemvOnly = (f: DequantFormat): f is GemvOnlyFormat => f === "f16" || f === "bf16" || f === "f32x8";
/** Whether the row-decoding kernel (assembly/dequant.ts `dequantRows`) reads `format`. */
export const dequantRowsFormat = (f: DequantFormat): f is Exclude<DequantFormat, "f32x8"> =>
  FORMATS.includes(f) && f !== "f32x8";

/** NF4 code book (QLoRA, Dettmers et al. 2023, Appendix E): the quant package's NF4 values. */
export const NF4_TABLE: readonly number[] = Object.freeze([
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
  -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
  0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
]);

/**
 * Bytes of one packed row of k values. `f32x8` has no contiguous rows: 4·k, the bytes of a row's
 * values (the layout's total is `f32x8Floats(n, k)`·4).
 */
export function dequantRowBytes(format: DequantFormat, k: number): number {
  if (format === "nibble") return (k + 1) >> 1;
  if (format === "i8") return k;
  if (format === "f16" || format === "bf16") return 2 * k;
  if (format === "f32x8") return 4 * k;
  return (k / 32) * (format === "q8_0" ? 34 : 18);
}

/** Bytes of a packed W [n, k] (scales apart). */
function packedBytes(format: DequantFormat, n: number, k: number): number {
  return format === "f32x8" ? 4 * f32x8Floats(n, k) : n * dequantRowBytes(format, k);
}

/** Groups per row of a `nibble` weight. */
function groupsOf(w: DequantWeight, k: number): number {
  return w.format === "nibble" || w.format === "i8" ? Math.ceil(k / w.group) : 0;
}

/** Validate W [n, k] in its format; throws a ShapeError / ValueError naming what would be valid. */
export function checkDequant(w: DequantWeight, n: number, k: number): void {
  const format = w.format;
  if (!FORMATS.includes(format)) {
    throw new ValueError(`unknown dequant format '${format}'; valid: ${FORMATS.join(", ")}`, { format });
  }
  if (w.format === "i8") {
    const need = n * groupsOf(w, k);
    if (!(Number.isInteger(w.group) && w.group >= 1) || w.scales.length < need) {
      throw new ShapeError(
        "dequant",
        `i8 weight [${n}, ${k}] needs a positive integer group (got ${w.group}) and ${need} f32 scales ([n, ⌈k/group⌉]), got ${w.scales.length}`,
        { n, k, group: w.group },
      );
    }
  } else if (w.format === "nibble") {
    if (!(Number.isInteger(w.group) && w.group >= 1)) {
      throw new ShapeError("dequant", `nibble group must be a positive integer, got ${w.group}`, {
        group: w.group,
      });
    }
    if (w.codebook.length !== 16) {
      throw new ShapeError("dequant", `nibble codebook needs 16 values, got ${w.codebook.length}`, {
        codebook: w.codebook.length,
      });
    }
    const need = n * groupsOf(w, k);
    if (w.dq) checkDq(w.dq, need);
    else if (w.scales.length < need) {
      throw new ShapeError(
        "dequant",
        `nibble weight [${n}, ${k}] with group ${w.group} needs ${need} f32 scales ([n, ⌈k/group⌉]), got ${w.scales.length}`,
        { n, k, group: w.group },
      );
    }
  } else if ((format === "q8_0" || format === "q4_0") && k % 32 !== 0) {
    throw new ShapeError("dequant", `${format} needs k a multiple of 32, got k=${k}`, { format, k });
  }
  const need = packedBytes(format, n, k);
  if (w.data.length < need) {
    throw new ShapeError(
      "dequant",
      `${format} weight [${n}, ${k}] needs ${need} bytes, got ${w.data.length}`,
      {
        n,
        k,
        format,
      },
    );
  }
}

/** Double-quantised scales cover `need` group scales; throws a ShapeError naming what is missing. */
function checkDq(dq: DoubleQuantScales, need: number): void {
  if (!(Number.isInteger(dq.chunk) && dq.chunk >= 1)) {
    throw new ShapeError("dequant", `double-quant chunk must be a positive integer, got ${dq.chunk}`, {
      chunk: dq.chunk,
    });
  }
  const chunks = Math.ceil(need / dq.chunk);
  if (dq.codes.length < need || dq.chunkScales.length < chunks) {
    throw new ShapeError(
      "dequant",
      `double-quantised scales for ${need} groups need ${need} codes and ${chunks} chunk scales, got ${dq.codes.length} and ${dq.chunkScales.length}`,
      { need, chunk: dq.chunk },
    );
  }
}

/** Decode `count` double-quantised group scales into `out` (f64 arithmetic rounded to f32, as NF4's). */
export function decodeDqScales(dq: DoubleQuantScales, count: number, out: Float32Array, at = 0): void {
  for (let t = 0; t < count; t++) out[at + t] = dq.codes[t]! * dq.chunkScales[(t / dq.chunk) | 0]! + dq.mean;
}

/**
 * Place W's packed rows (and, for `nibble`, its scales and codebook): read in place when resident in
 * `rt`, else reserved in `arena`; `write` copies the others in once the memory is addressable; `args`
 * are the kernels' (w, rowBytes, scales, group, codebook) arguments and `code` the row decoder's format
 * code (−1 for `f32x8`, which has none). Double-quantised nibble scales
 * are decoded into `arena` unless `keepDq` (the GEMV kernel decodes them): then `dqArgs` are the
 * kernel's (codes, chunk, mean) and `args`' scales are the chunk scales.
 */
export function layOutWeight(
  rt: WasmRuntime,
  arena: Arena,
  w: DequantWeight,
  n: number,
  k: number,
  keepDq = false,
) {
  const rowBytes = dequantRowBytes(w.format, k);
  const bytes = packedBytes(w.format, n, k);
  const nScales = n * groupsOf(w, k);
  const place = (view: ArrayBufferView, bytes: number) => {
    const at = rt.addressOf(view);
    return at !== undefined ? { at, copy: false } : { at: arena.take(bytes), copy: true };
  };
  const none = { at: 0, copy: false };
  const wp = place(w.data, bytes);
  const dq = w.format === "nibble" ? w.dq : undefined;
  const nChunks = dq ? Math.ceil(nScales / dq.chunk) : 0;
  let sp = none;
  if (w.format === "i8" || (w.format === "nibble" && !dq)) sp = place(w.scales, nScales * 4);
  else if (dq && keepDq) sp = place(dq.chunkScales, nChunks * 4);
  else if (dq) sp = { at: arena.take(nScales * 4), copy: true };
  const qp = dq && keepDq ? place(dq.codes, nScales) : none;
  const cp = w.format === "nibble" ? place(w.codebook, 16 * 4) : none;
  const write = (f32: Float32Array, u8: Uint8Array): void => {
    if (wp.copy) u8.set(w.data.subarray(0, bytes), wp.at);
    if (sp.copy) {
      if (dq && keepDq) f32.set(dq.chunkScales.subarray(0, nChunks), sp.at >> 2);
      else if (dq) decodeDqScales(dq, nScales, f32, sp.at >> 2);
      else if (w.format === "nibble" || w.format === "i8") f32.set(w.scales.subarray(0, nScales), sp.at >> 2);
    }
    if (dq && qp.copy) u8.set(new Uint8Array(dq.codes.buffer, dq.codes.byteOffset, nScales), qp.at);
    if (w.format === "nibble" && cp.copy) f32.set(w.codebook, cp.at >> 2);
  };
  const group = w.format === "nibble" || w.format === "i8" ? w.group : 0;
  const dqArgs = dq && keepDq ? [qp.at, dq.chunk, dq.mean] : [0, 0, 0];
  const code = dequantRowsFormat(w.format) ? FORMAT_CODE[w.format] : -1;
  return { write, code, args: [wp.at, rowBytes, sp.at, group, cp.at], dqArgs };
}

/** Below this many multiply-adds a dequantising matmul stays on one thread (the hand-off costs more). */
export const WASM_DEQUANT_SPLIT_MIN_WORK = 1 << 18;

/**
 * y [m, n] = x [m, k] · dequant(W)ᵀ on the WASM kernels on up to `threads` threads (1 or 2; default
 * `args.threads`, else 2; the second is used when the product is large enough). The backend's
 * `matmulDequant` hook.
 */
export function wasmMatmulDequant(
  args: DequantMatmulArgs & { readonly threads?: number },
  rt: WasmRuntime = wasmRuntime(),
  threads: number = args.threads ?? 2,
): void {
  const { m, n, k, x, y, weight } = args;
  checkDequant(weight, n, k);
  if (x.length < m * k || y.length < m * n) {
    throw new ShapeError(
      "dequant",
      `x needs ${m * k} and y ${m * n} elements, got ${x.length} and ${y.length}`,
      {
        m,
        n,
        k,
      },
    );
  }
  const fusedNibble = weight.format === "nibble" && k % 32 === 0 && weight.group % 32 === 0;
  if (gemvOnly(weight.format) || (m <= GEMV_MAX_M && (weight.format !== "nibble" || fusedNibble))) {
    // resident bytes: the direct path; otherwise (or 16-bit, f32x8) the layout that places them
    if (!gemvResidentPacked(rt, args, threads)) gemvFused(rt, args, threads);
    return;
  }
  const nt = threads > 1 && m * n * k >= WASM_DEQUANT_SPLIT_MIN_WORK && n >= 8 ? 2 : 1;
  const arena = new Arena(rt.scratchBase);
  const xAt = arena.take(m * k * 4);
  const { write, code, args: wArgs } = layOutWeight(rt, arena, weight, n, k);
  const yAt = arena.take(m * n * 4);
  const scratch = [arena.take((k + 16) * 4), arena.take((k + 16) * 4)];
  withWorkspace(rt, arena, ({ f32, u8 }) => {
    f32.set(x.subarray(0, m * k), xAt >> 2);
    write(f32, u8);
    const job = (j0: number, j1: number, t: number) => [
      code,
      m,
      k,
      j0,
      j1,
      xAt,
      ...wArgs,
      yAt,
      n,
      scratch[t]!,
    ];
    const cut = Math.ceil(n / 2);
    rt.run("matmulDequant", nt === 2 ? [job(0, cut, 0), job(cut, n, 1)] : [job(0, n, 0)]);
    y.set(f32.subarray(yAt >> 2, (yAt >> 2) + m * n));
  });
}

/** A packed GEMV's row split: where its counter is and each thread's trailing kernel arguments. */
interface RowSplit {
  /** The counter's byte address; 0: one thread, all rows in one go. */
  readonly counterAt: number;
  /** Thread t's `[counter, chunk]` (assembly/row-blocks.ts). */
  readonly args: (t: number) => readonly [number, number];
}

/**
 * The packed GEMVs' row split for `nt` threads. Two threads take blocks of `packedChunkRows` rows
 * from one atomic counter (zeroed before each run: `zeroCounter`), one from each end (`splitArgs`), so
 * a helper that starts late or is descheduled does fewer blocks instead of stretching the call to its
 * fixed half.
 */
function rowBlocks(
  arena: Arena,
  format: DequantFormat,
  m: number,
  n: number,
  k: number,
  nt: number,
): RowSplit {
  if (nt === 1) return { counterAt: 0, args: () => [0, 0] };
  const counterAt = arena.take(4);
  // f32x8: one block of its layout per hand-out (the kernel's unit; 1 MiB of W at k = 4096)
  const rows = format === "f32x8" ? F32X8_BLOCK_ROWS : packedChunkRows(m, n, k);
  const unit = format === "f32x8" ? F32X8_BLOCK_ROWS : 8;
  return { counterAt, args: (t) => splitArgs(counterAt, rows, n, t, unit) };
}

/** Zero the row-block counter at byte `at` before a run (0: one thread, no counter). */
function zeroCounter(u8: Uint8Array, at: number): void {
  if (at !== 0) u8.fill(0, at, at + 4);
}

/**
 * Per-thread scratch of the packed GEMV kernels, one block per thread (0s for the 16-bit formats, which
 * need none), sized by the kernels (`WasmRuntime.packedGemvScratchBytes`).
 */
function gemvScratch(
  rt: WasmRuntime,
  arena: Arena,
  format: DequantFormat,
  m: number,
  k: number,
  nt: number,
): number[] {
  if (gemvOnly(format)) return Array.from({ length: nt }, () => 0);
  const bytes = rt.packedGemvScratchBytes(format === "nibble", m, k);
  return Array.from({ length: nt }, () => arena.take(bytes));
}

/** Byte addresses of one packed GEMV call's operands in linear memory (0 where a format has none). */
interface GemvOperands {
  readonly xAt: number;
  readonly yAt: number;
  readonly wAt: number;
  readonly sAt: number;
  readonly group: number;
  readonly cAt: number;
  /** Double-quantised scales: [codes address, chunk, mean], or zeros. */
  readonly dqArgs: readonly number[];
}

/**
 * `format`'s GEMV kernel and its jobs, one per scratch block (= per thread): every thread gets all
 * rows [0, n) and takes blocks of them (row-blocks.ts, `split` = [counter, chunk]), or one thread all.
 */
function gemvJobs(
  format: DequantFormat,
  m: number,
  n: number,
  k: number,
  o: GemvOperands,
  scratch: readonly number[],
  split: RowSplit,
): { kernel: KernelName; jobs: number[][] } {
  const { xAt, yAt, wAt, sAt, group, cAt, dqArgs } = o;
  let kernel: KernelName;
  // s: the thread's scratch; part: its `[counter, chunk]` (RowSplit.args)
  let job: (s: number, part: readonly [number, number]) => number[];
  if (format === "nibble") {
    kernel = "gemvNibble";
    job = (s, part) => [m, k, xAt, wAt, sAt, group, cAt, yAt, n, 0, n, s, ...dqArgs, ...part];
  } else if (format === "i8") {
    kernel = "gemvI8";
    job = (s, part) => [m, k, xAt, wAt, sAt, group, yAt, n, 0, n, s, ...part];
  } else if (format === "f16" || format === "bf16") {
    kernel = "gemvF16";
    job = (_, part) => [m, k, xAt, wAt, yAt, n, 0, n, format === "bf16" ? 1 : 0, ...part];
  } else if (format === "f32x8") {
    kernel = "gemvF32x8";
    job = (_, part) => [m, k, xAt, wAt, yAt, n, 0, n, ...part];
  } else {
    kernel = format === "q8_0" ? "gemvQ8_0" : "gemvQ4_0";
    job = (s, part) => [m, k, xAt, wAt, yAt, n, 0, n, s, ...part];
  }
  return { kernel, jobs: scratch.map((s, t) => job(s, split.args(t))) };
}

/**
 * One resident weight's GEMV call laid out in the workspace: the kernel, its jobs (addresses
 * included) and where x, y, the nibble codebook (0: none) and the row-block counter (0: one thread)
 * go. Valid for the runtime, shape, thread count and workspace base it was laid out for.
 */
interface ResidentCall {
  readonly rt: WasmRuntime;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly nt: number;
  readonly arena: Arena;
  readonly kernel: KernelName;
  readonly jobs: readonly (readonly number[])[];
  readonly xAt: number;
  /** Floats between x's rows in the workspace (`xStride`). */
  readonly xs: number;
  readonly yAt: number;
  readonly cAt: number;
  readonly counterAt: number;
}

/**
 * The last call laid out per resident weight. A decode step calls each layer with the same shape
 * every token, so after the first token a call only copies x (and a codebook) in, zeroes the
 * counter, runs and copies y out: no per-call arrays or closures, which cost Q8_0 at 192×192 about
 * 2 µs of an 8.5 µs call (allocation and the GC it brings).
 */
const residentCalls = new WeakMap<DequantWeight, ResidentCall>();

/**
 * The decode path of a packed weight whose bytes (and scales: f32, or double-quantised codes and
 * chunk scales) are resident in `rt`: `gemvFused`'s call with no layout closures, only x, a nibble
 * codebook, y, the row-block counter and the kernels' scratch in the workspace, laid out once per
 * weight and shape (`residentCalls`). A decode GEMV of the `small` model is 6–15 µs, so per-call JS
 * counts. False, with nothing done, when a part is not resident (then `gemvFused` places it).
 */
function gemvResidentPacked(rt: WasmRuntime, a: DequantMatmulArgs, threads: number): boolean {
  const { m, n, k, x, y, weight } = a;
  const nt = gemvThreads(threads, m * n * k, n);
  const cached = residentCalls.get(weight);
  const fits =
    cached !== undefined &&
    cached.rt === rt &&
    cached.m === m &&
    cached.n === n &&
    cached.k === k &&
    cached.nt === nt &&
    cached.arena.start === rt.scratchBase;
  const call = fits ? cached : layOutResidentCall(rt, weight, m, n, k, nt);
  if (call === undefined) return false;
  if (call !== cached) residentCalls.set(weight, call);
  withWorkspace(rt, call.arena, ({ f32, u8 }) => {
    copyX(f32, x, m, k, call.xs, call.xAt);
    if (weight.format === "nibble") f32.set(weight.codebook.subarray(0, 16), call.cAt >> 2);
    zeroCounter(u8, call.counterAt);
    rt.run(call.kernel, call.jobs);
    y.set(f32.subarray(call.yAt >> 2, (call.yAt >> 2) + m * n));
  });
  return true;
}

/** `gemvResidentPacked`'s layout of one call, or undefined when a part of `weight` is not resident. */
function layOutResidentCall(
  rt: WasmRuntime,
  weight: DequantWeight,
  m: number,
  n: number,
  k: number,
  nt: number,
): ResidentCall | undefined {
  const wAt = rt.addressOf(weight.data);
  if (wAt === undefined) return undefined;
  const nibble = weight.format === "nibble";
  const dq = nibble ? weight.dq : undefined;
  let sAt: number | undefined = 0;
  if (weight.format === "i8") sAt = rt.addressOf(weight.scales);
  else if (nibble) sAt = rt.addressOf(dq ? dq.chunkScales : weight.scales);
  const qAt = dq ? rt.addressOf(dq.codes) : 0;
  if (sAt === undefined || qAt === undefined) return undefined;
  const arena = new Arena(rt.scratchBase);
  const xs = xStride(weight.format, k);
  const xAt = arena.take(m * xs * 4);
  const yAt = arena.take(m * n * 4);
  const cAt = nibble ? arena.take(16 * 4) : 0;
  const scratch = gemvScratch(rt, arena, weight.format, m, k, nt);
  const split = rowBlocks(arena, weight.format, m, n, k, nt);
  const group = weight.format === "i8" || nibble ? weight.group : 0;
  const dqArgs = dq ? [qAt, dq.chunk, dq.mean] : [0, 0, 0];
  const o = { xAt, yAt, wAt, sAt, group, cAt, dqArgs };
  const { kernel, jobs } = gemvJobs(weight.format, m, n, k, o, scratch, split);
  return { rt, m, n, k, nt, arena, kernel, jobs, xAt, xs, yAt, cAt, counterAt: split.counterAt };
}

/** Floats between x's rows in a GEMV's workspace: f32x8's kernel reads rows of k rounded up to 4. */
function xStride(format: DequantFormat, k: number): number {
  return format === "f32x8" ? (k + 3) & ~3 : k;
}

/** x [m, k] into the workspace at byte `xAt`, rows `xs` floats apart, zero between k and xs. */
function copyX(f32: Float32Array, x: Float32Array, m: number, k: number, xs: number, xAt: number): void {
  if (xs === k) {
    f32.set(x.length === m * k ? x : x.subarray(0, m * k), xAt >> 2);
    return;
  }
  for (let i = 0; i < m; i++) {
    const at = (xAt >> 2) + i * xs;
    f32.set(x.subarray(i * k, (i + 1) * k), at);
    f32.fill(0, at + k, at + xs);
  }
}

/**
 * y [m, n] = x · Wᵀ through the fused GEMV kernels, rows split: m ≤ GEMV_MAX_M and a Q8_0 / Q4_0 /
 * i8 weight or a nibble weight with k and group multiples of 32, or any m for f16 / bf16.
 */
function gemvFused(rt: WasmRuntime, a: DequantMatmulArgs, threads: number): void {
  const { m, n, k, x, y, weight } = a;
  const arena = new Arena(rt.scratchBase);
  const xs = xStride(weight.format, k);
  const xAt = arena.take(m * xs * 4);
  const { write, args: wArgs, dqArgs } = layOutWeight(rt, arena, weight, n, k, true);
  const yAt = arena.take(m * n * 4);
  // Packed formats split from GEMV_SPLIT_MIN_WORK (2^19 multiply-adds with the polling hand-off: see
  // matmul.ts). With the futex hand-off it was 2^21, measured 2026-11-28, kernels called directly on resident d×d weights, 1 vs 2 threads (µs, load ≈ 5, so the
  // second core was often busy): Q8_0 512: 19/43, 1024: 70/89, 1440: 163/170, 2048: 300/257, 3072:
  // 738/494; Q4_0 1024: 85/102, 1440: 166/184, 2048: 364/356, 3072: 794/510; INT8 1024: 52/70, 1440:
  // 106/81, 2048: 218/217, 3072: 486/368 — the hand-off (~20–30 µs) outweighs halving the rows up to
  // about 2^21 and pays from 3072 (`node --import tsx` of a script timing rt.run with one and two jobs).
  // A width that is not a multiple of 32 (1448: 1.5 ms on 1 and 2 threads, vs 0.46 ms at 2048) stays
  // on quant's JS GEMV (PackedLinear's autoKernel), one thread whatever the backend; 1440 takes this
  // kernel (0.43 ms). The bench's crossover therefore uses 1440.
  const nt = gemvThreads(threads, m * n * k, n);
  const scratch = gemvScratch(rt, arena, weight.format, m, k, nt);
  const split = rowBlocks(arena, weight.format, m, n, k, nt);
  withWorkspace(rt, arena, ({ f32, u8 }) => {
    copyX(f32, x, m, k, xs, xAt);
    write(f32, u8);
    const [wAt, , sAt, group, cAt] = wArgs as [number, number, number, number, number];
    zeroCounter(u8, split.counterAt);
    const o = { xAt, yAt, wAt, sAt, group, cAt, dqArgs };
    const { kernel, jobs } = gemvJobs(weight.format, m, n, k, o, scratch, split);
    rt.run(kernel, jobs);
    y.set(f32.subarray(yAt >> 2, (yAt >> 2) + m * n));
  });
}

/**
 * The error the GGUF and nibble GEMV kernels add by rounding x to 16-bit codes per block of `block`
 * inputs (x ≈ s·q, s = absmax/levels, levels 32767; GGUF: 32, nibble: `nibbleXBlock(group)`): at most
 * Σ_q |W[j, q]|·s_block(q)/2 for row j of W (`row`, decoded) and x row `xi`. Tests add it to their f32
 * tolerance for those kernels (m ≤ GEMV_MAX_M). `levels` 127: the relaxed build's Q8_0 / Q4_0 / INT8
 * kernels, which round x to 8-bit codes (`xCodeLevels`).
 */
export function x16RoundingBound(
  row: Float32Array,
  x: Float32Array,
  xOff: number,
  k: number,
  block = 32,
  levels = 32767,
): number {
  let bound = 0;
  for (let b = 0; b < k; b += block) {
    const e = Math.min(k, b + block);
    let amax = 0;
    for (let t = b; t < e; t++) amax = Math.max(amax, Math.abs(x[xOff + t]!));
    let w = 0;
    for (let t = b; t < e; t++) w += Math.abs(row[t]!);
    bound += (w * amax) / levels / 2;
  }
  return bound;
}

/**
 * The largest code the packed GEMV kernels of a flavor round x to (x ≈ s·q, s = absmax/levels; Q8_0 /
 * Q4_0 / INT8 per 32-block, INT4 / NF4 per x-block): on `relaxed` 127 (8-bit, for the 8-bit dot
 * product); on `simd` 32767 (16-bit codes), except `q4_0`'s 1927 (its kernel dots the raw 16-bit lanes
 * of nibbles against x codes combined as x₁ − 16·x₀, which must fit 16 bits: 17·1927 ≤ 32767; see
 * assembly/gemv.ts). Pass it to `x16RoundingBound` as `levels`. The nibble kernel's levels depend on its
 * codebook: `nibbleXCodeLevels`.
 */
export function xCodeLevels(flavor: WasmFlavor = wasmFlavor(), format?: DequantFormat): number {
  if (flavor === "relaxed") return 127;
  return format === "q4_0" ? FLIP_X_LEVELS : 32767;
}

/**
 * The x code bound of the `simd` kernels that read 4-bit lanes flipped and shifted (Q4_0's, and the
 * nibble kernel's for an affine codebook): x codes combined as x₁ − 16·x₀ fit 16 bits (17·1927 ≤
 * 32767; assembly/gemv.ts `Q4_X_LEVELS`).
 */
const FLIP_X_LEVELS = 1927;

/**
 * Whether the nibble GEMV kernel takes a 4-bit codebook's codes as they are (assembly/
 * gemv-nibble-codebook.ts `integerCodebook`): codebook[c] = a·c + b with a ≠ 0 and b/a an integer of
 * at most 255 in size (INT4's c − 8). Any other codebook (NF4's) goes through a lookup table.
 */
export function nibbleCodebookAffine(codebook: ArrayLike<number>): boolean {
  const c0 = Math.fround(codebook[0]!);
  const a = Math.fround(codebook[1]!) - c0;
  if (a === 0 || Math.abs(c0 / a) > 255 || c0 / a !== Math.round(c0 / a)) return false;
  for (let c = 0; c < 16; c++) if (Math.fround(codebook[c]!) !== c0 + c * a) return false;
  return true;
}

/**
 * `xCodeLevels` of the nibble GEMV kernel for `codebook`: 127 on `relaxed`, and on `simd` too unless
 * the codebook is affine (`nibbleCodebookAffine`), since the lookup kernel dots each looked-up i16 lane
 * raw against x codes combined as x₁ − 256·x₀ (assembly/gemv-nibble.ts `dot32`), which fit 16 bits
 * for 8-bit codes only; an affine codebook's kernel dots the nibble fields as Q4_0's does, against x
 * codes combined as x₁ − 16·x₀: 1927 (17·1927 ≤ 32767).
 */
export function nibbleXCodeLevels(codebook: ArrayLike<number>, flavor: WasmFlavor = wasmFlavor()): number {
  return flavor === "relaxed" || !nibbleCodebookAffine(codebook) ? 127 : FLIP_X_LEVELS;
}

/**
 * Inputs per x-block of the nibble GEMV kernel (assembly/gemv-nibble.ts `xBlock`): x is rounded to
 * codes (`nibbleXCodeLevels`) with one scale per 32·b inputs, b the largest of 4, 2, 1 dividing
 * group/32 (group a multiple of 32), so that its integer sums span whole groups' worth of blocks.
 */
export function nibbleXBlock(group: number): number {
  const bpg = group / 32;
  return 32 * (bpg % 4 === 0 ? 4 : bpg % 2 === 0 ? 2 : 1);
}

/**
 * The whole error bound the nibble GEMV kernel of `flavor` (default: the process's, `wasmFlavor()`)
 * adds to one output beyond f32 rounding: x rounded per x-block (`nibbleXBlock`, `nibbleXCodeLevels`)
 * plus the codebook rounded to integers (`codebookRoundingBound`), for decoded row `row` of W with group
 * scales `scales` and x row at `xOff`. Tests add it to their f32 tolerance (m ≤ GEMV_MAX_M, k and
 * group multiples of 32).
 */
export function nibbleRoundingBound(
  row: Float32Array,
  codebook: ArrayLike<number>,
  scales: ArrayLike<number>,
  group: number,
  x: Float32Array,
  xOff: number,
  k: number,
  flavor: WasmRuntime["flavor"] = wasmFlavor(),
): number {
  const xr = x16RoundingBound(row, x, xOff, k, nibbleXBlock(group), nibbleXCodeLevels(codebook, flavor));
  return xr + codebookRoundingBound(codebook, scales, group, x, xOff, k);
}

/**
 * The error the nibble GEMV kernel adds by rounding a codebook that is not affine to integers
 * (assembly/gemv-nibble-codebook.ts; INT4's c − 8 is exact, and this bound is then only loose): the
 * codebook's span (max − min) mapped onto 0..127 (the 7-bit values both builds' dots read), each value
 * within half a step, so at most (max − min)/254 times Σ_q |x[xOff + q]|·|scale(j, q)| for one row j
 * whose group scales are `scales` (G of them).
 */
export function codebookRoundingBound(
  codebook: ArrayLike<number>,
  scales: ArrayLike<number>,
  group: number,
  x: Float32Array,
  xOff: number,
  k: number,
): number {
  let cmax = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let c = 0; c < 16; c++) {
    cmax = Math.max(cmax, Math.abs(codebook[c]!));
    lo = Math.min(lo, codebook[c]!);
    hi = Math.max(hi, codebook[c]!);
  }
  const step = hi > lo ? (hi - lo) / 127 : cmax / 127;
  let s = 0;
  for (let q = 0; q < k; q++) s += Math.abs(x[xOff + q]!) * Math.abs(scales[Math.floor(q / group)]!);
  return (s * step) / 2;
}

/** Decode W [n, k] to f32 on the WASM kernels (out holds n·k; `f32x8` is decoded in JS). */
export function wasmDequantRows(
  weight: DequantWeight,
  n: number,
  k: number,
  out: Float32Array,
  rt: WasmRuntime = wasmRuntime(),
): void {
  checkDequant(weight, n, k);
  if (out.length < n * k)
    throw new ShapeError("dequant", `out needs ${n * k} elements, got ${out.length}`, { n, k });
  const format = weight.format;
  if (format === "f32x8") {
    unpackF32x8Rows(f32View(weight.data, f32x8Floats(n, k)), n, k, 0, n, out);
    return;
  }
  const arena = new Arena(rt.scratchBase);
  const { write, code, args } = layOutWeight(rt, arena, weight, n, k);
  const oAt = arena.take((n * k + 16) * 4); // + one group's scaled codebook after the last row
  withWorkspace(rt, arena, ({ f32, u8 }) => {
    write(f32, u8);
    rt.run("dequantRows", [[code, k, 0, n, ...args, oAt]]);
    out.set(f32.subarray(oAt >> 2, (oAt >> 2) + n * k));
  });
}

/**
 * The oracle: decode row `j` of W [n, k] with plain scalar JS. `nibble` needs `weight`'s codebook,
 * group and scales (or `dq`); `i8` its group and scales; the GGUF and 16-bit formats only the bytes.
 * Not `f32x8`, whose rows are placed by n too (`unpackF32x8Rows`): a ValueError.
 */
export function dequantRowNaive(
  format: DequantFormat,
  data: Uint8Array,
  j: number,
  k: number,
  nibble?: {
    readonly codebook?: ArrayLike<number>;
    readonly group: number;
    readonly scales: Float32Array;
    readonly dq?: DoubleQuantScales | undefined;
  },
): Float32Array {
  if (format === "f32x8") {
    throw new ValueError("dequantRowNaive: f32x8 rows depend on n; decode them with unpackF32x8Rows", {
      format,
    });
  }
  const out = new Float32Array(k);
  const rb = dequantRowBytes(format, k);
  const row = data.subarray(j * rb, (j + 1) * rb);
  if (format === "f16" || format === "bf16") {
    const decode = format === "f16" ? f16ToF32 : bf16ToF32;
    for (let c = 0; c < k; c++) out[c] = decode(row[2 * c]! | (row[2 * c + 1]! << 8));
    return out;
  }
  if (format === "i8") {
    if (!nibble) throw new ValueError("dequantRowNaive: an i8 row needs its group and scales");
    const groups = Math.ceil(k / nibble.group);
    for (let c = 0; c < k; c++) {
      out[c] = ((row[c]! << 24) >> 24) * nibble.scales[j * groups + Math.floor(c / nibble.group)]!;
    }
    return out;
  }
  if (format === "nibble") {
    if (!nibble?.codebook) {
      throw new ValueError("dequantRowNaive: a nibble row needs its codebook, group and scales");
    }
    const codebook = nibble.codebook;
    const groups = Math.ceil(k / nibble.group);
    let scales = nibble.scales;
    let at = j * groups;
    if (nibble.dq) {
      scales = new Float32Array(groups);
      for (let g = 0; g < groups; g++) {
        const t = j * groups + g;
        scales[g] = nibble.dq.codes[t]! * nibble.dq.chunkScales[(t / nibble.dq.chunk) | 0]! + nibble.dq.mean;
      }
      at = 0;
    }
    for (let c = 0; c < k; c++) {
      const byte = row[c >> 1]!;
      const code = c % 2 === 0 ? byte & 15 : byte >> 4;
      out[c] = codebook[code]! * scales[at + Math.floor(c / nibble.group)]!;
    }
    return out;
  }
  const bs = format === "q8_0" ? 34 : 18;
  for (let b = 0; b < k / 32; b++) {
    const base = b * bs;
    const d = f16ToF32(row[base]! | (row[base + 1]! << 8));
    for (let t = 0; t < 32; t++) {
      let q: number;
      if (format === "q8_0") q = (row[base + 2 + t]! << 24) >> 24;
      else q = (t < 16 ? row[base + 2 + t]! & 15 : row[base + 2 + t - 16]! >> 4) - 8;
      out[b * 32 + t] = d * q;
    }
  }
  return out;
}

/** `count` f32s from the bytes `data` (a view when 4-byte aligned, else a copy). */
function f32View(data: Uint8Array, count: number): Float32Array {
  if (data.byteOffset % 4 === 0) return new Float32Array(data.buffer, data.byteOffset, count);
  return new Float32Array(data.slice(0, count * 4).buffer);
}
