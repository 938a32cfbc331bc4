/**
 * The `WASM` strategy of the `backend` slot: a `Backend` whose matmul, fused attention forward and
 * dequantising matmul run the AssemblyScript SIMD kernels on 1 or 2 threads, whose step kernels
 * (norms, RoPE, SiLU, adds, softmax, sampling, AdamW: fused.ts) run them on the calling thread from a
 * size that pays, and whose other kernels are the JS ones. Creating it is cheap: the module
 * is compiled once per process and the runtime (memory) starts on first use; the 2-thread backend's
 * helper thread starts booting when it first places resident weights (`prestartHelpers`), else on the
 * first split product.
 * Not here: the kernels (assembly/), the runtime (runtime.ts).
 */
import {
  type AttentionBackwardArgs,
  type AttentionKernelArgs,
  type Backend,
  type DequantMatmulArgs,
  type DequantTilesArgs,
  jsBackend,
} from "../backend.js";
import type { DType } from "../dtype.js";
import { ConfigError } from "../errors.js";
import type { MatmulArgs } from "../kernels/matmul.js";
import type { MemoryLedger } from "../ledger.js";
import type { BackendCost } from "../plan.js";
import { defineStrategy } from "../strategy.js";
import { wasmAttention } from "./attention.js";
import { wasmMatmulDequant } from "./dequant.js";
import { wasmMatmulDequantTiles } from "./dequant-gemm.js";
import { wasmAttentionBackward } from "./flash-backward.js";
import { fusedKernels } from "./fused.js";
import { wasmUnavailableReason } from "./loader.js";
import { wasmMatmul } from "./matmul.js";
import { allocateResident } from "./resident.js";
import { wasmRuntime } from "./runtime.js";

/** A WASM backend: `threads` 1 or 2. */
export interface WasmBackend extends Backend {
  /** Threads its kernels split work over (1 or 2). */
  readonly threads: number;
}

const backends = new Map<number, WasmBackend>();

/**
 * The WASM backend object for `threads` (cached; the runtime starts lazily). Throws a ConfigError
 * naming the reason when WebAssembly SIMD or shared memory is unavailable — check `wasmAvailable()`
 * first to fall back to `jsBackend`.
 */
export function wasmBackend(threads = 2): WasmBackend {
  if (threads !== 1 && threads !== 2) {
    throw new ConfigError([`WASM threads must be 1 or 2, got ${threads}`], { threads });
  }
  const cached = backends.get(threads);
  if (cached) return cached;
  const reason = wasmUnavailableReason();
  if (reason !== undefined) throw new ConfigError([reason], { backend: "WASM" });
  const backend: WasmBackend = Object.freeze({
    ...jsBackend,
    ...fusedKernels(),
    name: "WASM",
    threads,
    matmul: (p: MatmulArgs) => wasmMatmul(wasmRuntime(), p, threads),
    attention: (a: AttentionKernelArgs) => attentionBatched(a, threads),
    attentionBackward: (a: AttentionBackwardArgs) => wasmAttentionBackward(a, wasmRuntime(), threads),
    matmulDequant: (a: DequantMatmulArgs) => wasmMatmulDequant(a, wasmRuntime(), threads),
    matmulDequantTiles: (a: DequantTilesArgs) => wasmMatmulDequantTiles(a, wasmRuntime(), threads),
    allocateResident: (ledger: MemoryLedger, category: string, dtype: DType, length: number) => {
      const rt = wasmRuntime();
      // Resident storage (weights, a KV cache) means products follow: the helper boots meanwhile
      // (a no-op once it runs).
      rt.prestartHelpers(threads - 1);
      return allocateResident(rt, ledger, category, dtype, length);
    },
  });
  backends.set(threads, backend);
  return backend;
}

/** The backend's attention hook: `wasmAttention` (one batch element at a time) over [B, H, T, D]. */
function attentionBatched(a: AttentionKernelArgs, threads: number): void {
  const qs = a.heads * a.tq * a.headDim;
  const kvStride = a.kvStride ?? a.tk * a.headDim;
  const ks = a.kvHeads * kvStride;
  const ls = a.heads * a.tq;
  for (let b = 0; b < a.batch; b++) {
    wasmAttention(
      a.q.subarray(b * qs, (b + 1) * qs),
      a.k.subarray(b * ks, (b + 1) * ks),
      a.v.subarray(b * ks, (b + 1) * ks),
      a.out.subarray(b * qs, (b + 1) * qs),
      {
        heads: a.heads,
        kvHeads: a.kvHeads,
        tq: a.tq,
        tk: a.tk,
        d: a.headDim,
        causal: a.causal,
        window: a.window,
        scale: a.scale,
        blockQ: a.blockQ,
        blockK: a.blockK,
        kvStride,
        threads,
        lse: a.lse?.subarray(b * ls, (b + 1) * ls),
      },
    );
  }
}

/**
 * The GEMM's packing scratch per thread: a 128×256 panel of A, a 256×2048 panel of B and a 4×8
 * micro-tile in f32 (assembly/gemm.ts: MC, KC, NC; the runtime's `gemmScratchBytes` reports the
 * same number, and a test holds them equal).
 */
export const WASM_GEMM_SCRATCH_BYTES = (128 * 256 + 256 * 2048 + 32) * 4;

/**
 * Each WASM matmul copies its activation operands into WebAssembly memory (f32) and packs panels
 * there, charged to `tmp/wasm` while it runs: those operands plus one packing scratch per thread.
 */
function wasmCost(threads: number): BackendCost {
  return Object.freeze({
    name: "WASM",
    matmulWorkspaceBytes: (operandElements: number) =>
      operandElements * 4 + threads * WASM_GEMM_SCRATCH_BYTES,
    // Weights are packed into WebAssembly memory once (resident.ts): only activations are copied.
    residentWeights: true,
    note: "tmp on WASM: plus the largest matmul's activation operands copied into WebAssembly memory and the packing scratch (weights are resident)",
  });
}

/**
 * The `WASM[threads]` backend strategy: WebAssembly SIMD kernels (AssemblyScript) on 1 or 2 threads (default
 * 2), JS for the rest; tested against `JS`.
 */
export const wasm = defineStrategy({
  name: "WASM",
  slot: "backend",
  description: "WebAssembly SIMD kernels (AssemblyScript) on 1–2 threads; JS for the rest",
  options: {
    threads: {
      type: "int",
      default: 2,
      min: 1,
      max: 2,
      doc: "threads for matmul: the caller plus one worker_threads helper on shared memory",
    },
  },
  plan: (p, o) => ({ ...p, backend: wasmCost(o.threads) }),
  exec: (o) => {
    const backend = wasmBackend(o.threads);
    return { backend };
  },
});
