/**
 * Dequantising matmuls on the WASM kernels for the quant package's packed formats, with the JS naive
 * oracle (`dequantRowNaive`) beside them. y [m, n] = x [m, k] · Wᵀ with W [n, k] packed row by row:
 * - `q8_0`: GGUF Q8_0, per 32 values 34 bytes [f16 d, 32 × i8]; value = d·q.
 * - `q4_0`: GGUF Q4_0, per 32 values 18 bytes [f16 d, 16 B]; byte t: element t in the low nibble, t+16
 *   in the high nibble; value = d·(nibble − 8).
 * - `nf4`: k/2 bytes per row, byte t: element 2t in the HIGH nibble, 2t+1 in the low one (bitsandbytes'
 *   order); value = NF4[code]·absmax[row, ⌊col / block⌋] with f32 absmax [n, k / block].
 * Not here: quantising, autograd, or the Tensor-level linear layer (the quant package's job).
 */

import { f16ToF32 } from "../dtype.js";
import { ShapeError, ValueError } from "../errors.js";
import { Arena, type WasmRuntime, wasmRuntime, withWorkspace } from "./runtime.js";

export type DequantFormat = "q8_0" | "q4_0" | "nf4";
const FORMAT_CODE: Record<DequantFormat, number> = { q8_0: 0, q4_0: 1, nf4: 2 };

/** NF4 code book (QLoRA, Dettmers et al. 2023, Appendix E), as in assembly/dequant.ts. */
export const NF4_TABLE: readonly number[] = Object.freeze([
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
  -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
  0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
]);

export interface DequantOptions {
  /** NF4: the f32 absmax of every block, [n, k / block]. */
  readonly absmax?: Float32Array;
  /** NF4 block size (even, divides k); default 64. */
  readonly block?: number;
  /** 1 or 2 threads (columns split); default 2. */
  readonly threads?: number;
}

/** Bytes of one packed row of k values. */
export function dequantRowBytes(format: DequantFormat, k: number): number {
  return format === "nf4" ? k / 2 : (k / 32) * (format === "q8_0" ? 34 : 18);
}

function check(format: DequantFormat, k: number, n: number, w: Uint8Array, o: DequantOptions): number {
  if (!(format in FORMAT_CODE)) {
    throw new ValueError(`unknown dequant format '${format}'; valid: q8_0, q4_0, nf4`, { format });
  }
  const block = o.block ?? 64;
  if (format === "nf4") {
    if (block <= 0 || block % 2 !== 0 || k % block !== 0) {
      throw new ShapeError("dequant", `nf4 block ${block} must be even and divide k=${k}`, { block, k });
    }
    if (!o.absmax || o.absmax.length < (n * k) / block) {
      throw new ShapeError(
        "dequant",
        `nf4 needs absmax of ${(n * k) / block} f32 ([n, k/block]), got ${o.absmax?.length ?? 0}`,
        {
          n,
          k,
          block,
        },
      );
    }
  } else if (k % 32 !== 0) {
    throw new ShapeError("dequant", `${format} needs k a multiple of 32, got k=${k}`, { format, k });
  }
  const need = n * dequantRowBytes(format, k);
  if (w.length < need) {
    throw new ShapeError("dequant", `${format} weight [${n}, ${k}] needs ${need} bytes, got ${w.length}`, {
      n,
      k,
      format,
    });
  }
  return block;
}

/**
 * Reserve W's packed rows (and, for NF4, its absmax) in `arena`; `write` copies them in once the
 * memory is addressable.
 */
function layOutWeight(
  arena: Arena,
  format: DequantFormat,
  w: Uint8Array,
  n: number,
  k: number,
  block: number,
  absmax: Float32Array | undefined,
) {
  const rowBytes = dequantRowBytes(format, k);
  const wAt = arena.take(n * rowBytes);
  const sAt = format === "nf4" ? arena.take(((n * k) / block) * 4) : 0;
  const write = (f32: Float32Array, u8: Uint8Array): void => {
    u8.set(w.subarray(0, n * rowBytes), wAt);
    if (format === "nf4") f32.set(absmax!.subarray(0, (n * k) / block), sAt >> 2);
  };
  return { rowBytes, wAt, sAt, write };
}

/** y [m, n] = x [m, k] · dequant(W)ᵀ on the WASM kernels. */
export function wasmMatmulDequant(
  format: DequantFormat,
  x: Float32Array,
  m: number,
  k: number,
  w: Uint8Array,
  n: number,
  y: Float32Array,
  options: DequantOptions = {},
  rt: WasmRuntime = wasmRuntime(),
): void {
  const block = check(format, k, n, w, options);
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
  const threads = (options.threads ?? 2) > 1 && m * n * k >= 1 << 18 && n >= 8 ? 2 : 1;
  const arena = new Arena(rt.heapBase);
  const xAt = arena.take(m * k * 4);
  const { rowBytes, wAt, sAt, write } = layOutWeight(arena, format, w, n, k, block, options.absmax);
  const yAt = arena.take(m * n * 4);
  const scratch = [arena.take(k * 4), arena.take(k * 4)];
  withWorkspace(rt, arena, ({ f32, u8 }) => {
    f32.set(x.subarray(0, m * k), xAt >> 2);
    write(f32, u8);
    const job = (j0: number, j1: number, t: number) => [
      FORMAT_CODE[format],
      m,
      k,
      j0,
      j1,
      xAt,
      wAt,
      rowBytes,
      sAt,
      block,
      yAt,
      n,
      scratch[t]!,
    ];
    const cut = Math.ceil(n / 2);
    rt.run("matmulDequant", threads === 2 ? [job(0, cut, 0), job(cut, n, 1)] : [job(0, n, 0)]);
    y.set(f32.subarray(yAt >> 2, (yAt >> 2) + m * n));
  });
}

/** Decode W [n, k] to f32 on the WASM kernels (out holds n·k). */
export function wasmDequantRows(
  format: DequantFormat,
  w: Uint8Array,
  n: number,
  k: number,
  out: Float32Array,
  options: DequantOptions = {},
  rt: WasmRuntime = wasmRuntime(),
): void {
  const block = check(format, k, n, w, options);
  if (out.length < n * k)
    throw new ShapeError("dequant", `out needs ${n * k} elements, got ${out.length}`, { n, k });
  const arena = new Arena(rt.heapBase);
  const { rowBytes, wAt, sAt, write } = layOutWeight(arena, format, w, n, k, block, options.absmax);
  const oAt = arena.take(n * k * 4);
  withWorkspace(rt, arena, ({ f32, u8 }) => {
    write(f32, u8);
    rt.run("dequantRows", [[FORMAT_CODE[format], k, 0, n, wAt, rowBytes, sAt, block, oAt]]);
    out.set(f32.subarray(oAt >> 2, (oAt >> 2) + n * k));
  });
}

/** The oracle: decode row `j` of W [n, k] with plain scalar JS. */
export function dequantRowNaive(
  format: DequantFormat,
  w: Uint8Array,
  j: number,
  k: number,
  options: DequantOptions = {},
): Float32Array {
  const out = new Float32Array(k);
  const rb = dequantRowBytes(format, k);
  const row = w.subarray(j * rb, (j + 1) * rb);
  if (format === "nf4") {
    const block = options.block ?? 64;
    for (let c = 0; c < k; c++) {
      const byte = row[c >> 1]!;
      const code = c % 2 === 0 ? byte >> 4 : byte & 15;
      out[c] = NF4_TABLE[code]! * options.absmax![(j * k) / block + Math.floor(c / block)]!;
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
