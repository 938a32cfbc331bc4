/**
 * The WASM runtime: one shared `WebAssembly.Memory`, the kernels instance on the calling thread, and
 * up to one helper worker (`worker_threads` in Node, a Web Worker in browsers; started through `#host`)
 * running the same module on the same memory. `run()` hands each thread its argument list and returns
 * when all are done (synchronous: the caller computes its share, then blocks in `Atomics.wait` —
 * allowed on Node's main thread and in workers; where it is not, such as a page's main thread, every
 * job runs on the calling thread in turn). Not here: operand layout or
 * how work is split (matmul.ts, dequant.ts, attention.ts). Memory map: resident blocks (weights,
 * `heap`, from `heapBase` up to `heap.top`), then per-call workspace: a caller lays out its operands
 * with an `Arena` from `scratchBase` and runs inside `withWorkspace`, which charges those bytes.
 */
import { host } from "#host";
import { ConfigError, ValueError } from "../errors.js";
import type { HelperThread } from "../host/host.js";
import { getLedger } from "../ledger.js";
import { envWasmFlavor, parseWasmFlavor, recordWasmFlavor, wasmFlavor } from "./flavor.js";
import { WasmHeap } from "./heap.js";
import { type WasmFlavor, wasmModule } from "./loader.js";
import { type WasmMemory, webAssembly } from "./wasm-api.js";

/** Kernel exports callable by name from the JS side (the AssemblyScript entry's functions). */
export const KERNELS = [
  "gemmBatched",
  "gemmBlocks",
  "matmulDequant",
  "dequantRows",
  "attentionTile",
  "attentionFinish",
  "attentionBlocked",
  "gemvF32",
  "gemvQ8_0",
  "gemvQ4_0",
  "gemvI8",
  "gemvNibble",
  "gemvF16",
  "gemvF32x8",
  "attentionBackward",
  "readSum",
] as const;
/** The exported kernel names `run()` accepts. */
export type KernelName = (typeof KERNELS)[number];

type KernelFn = (...args: number[]) => void;
interface KernelExports {
  readonly heapBase: () => number;
  readonly gemmScratchBytes: () => number;
  readonly gemmBlocksScratchBytes: (m: number, k: number, chunk: number) => number;
  readonly gemvBlockScratchBytes: (m: number, k: number) => number;
  readonly gemvNibbleScratchBytes: (m: number, k: number) => number;
}

// Control block of one worker (Int32 slots; then f64 arguments from byte 64).
const SEQ = 0; // job counter, bumped by the caller
const DONE = 1; // last finished job
const OP = 2; // kernel index into KERNELS, or −1 to exit
const NARGS = 3;
const STATE = 4; // 0 starting, 1 ready, −1 failed
const CLAIM = 5; // last job taken, by the helper or back by the caller (compare-exchange from SEQ − 1)
const ARGS_BYTE = 64;
const MAX_ARGS = 32;
const PAGE = 65536;
const MAX_PAGES = 65536; // 4 GiB: the wasm32 limit; virtual reservation only until grown
/** Bytes a runtime's linear memory can address at most (the wasm32 limit). */
export const WASM_MAX_BYTES = MAX_PAGES * PAGE;

/**
 * How long a helper keeps polling for its next job after finishing one before it sleeps in
 * `Atomics.wait` (ms). A futex wake-up of a sleeping helper measured 15–200 µs per call here (median
 * 30–150 µs on this 2-core VM: the idle vCPU must be woken by the hypervisor), against ~1 µs for a
 * spinning helper; a decode step's GEMVs come a few to tens of µs apart, so the helper polls through
 * a step and sleeps once the caller stops issuing jobs. The bound caps the core an idle helper burns
 * at 1 ms per burst of jobs (others share this machine). Thread pools do the same: libgomp spins
 * GOMP_SPINCOUNT (300k) iterations before sleeping, llama.cpp's ggml threadpool polls before its
 * condition-variable wait.
 */
const HELPER_SPIN_MS = 1;
/**
 * How long the caller polls for a helper's share to finish before it sleeps (ms): shares are split
 * to finish together (the GEMV's dynamic split leaves at most one block, ~10–30 µs), so the wait is
 * usually µs; capped low because a caller spinning while the helper is starved of a core (a loaded
 * machine) would take the core the helper needs.
 */
const CALLER_SPIN_MS = 0.1;

// The helper's script body (no file to resolve from sources or dist); the host wraps it so that
// `workerData` is bound (Node: worker_threads' workerData; browsers: the first message). Between
// jobs it polls SEQ for up to HELPER_SPIN_MS, then sleeps in Atomics.wait until notified. A job is
// run only after claiming it (CLAIM: SEQ − 1 → SEQ); when the caller claimed it first (it finished
// its own share before this thread woke and ran this share itself), the job is skipped.
const WORKER_SOURCE = `
const { module, memory, ctrl, names } = workerData;
const i32 = new Int32Array(ctrl);
const f64 = new Float64Array(ctrl, ${ARGS_BYTE}, ${MAX_ARGS});
let fns;
try {
  const inst = new WebAssembly.Instance(module, { env: { memory } });
  fns = names.map((n) => inst.exports[n]);
  Atomics.store(i32, ${STATE}, 1);
} catch (e) {
  console.error("WASM helper: " + String(e));
  Atomics.store(i32, ${STATE}, -1);
}
Atomics.notify(i32, ${DONE});
let seen = 0;
while (fns) {
  const until = performance.now() + ${HELPER_SPIN_MS};
  let seq;
  while ((seq = Atomics.load(i32, ${SEQ})) === seen) {
    if (performance.now() > until) Atomics.wait(i32, ${SEQ}, seen);
  }
  seen = seq;
  if (Atomics.compareExchange(i32, ${CLAIM}, seq - 1, seq) !== seq - 1) continue;
  const op = i32[${OP}];
  if (op < 0) break;
  try {
    fns[op](...f64.subarray(0, i32[${NARGS}]));
  } catch (e) {
    Atomics.store(i32, ${STATE}, -1);
  }
  Atomics.store(i32, ${DONE}, seq);
  Atomics.notify(i32, ${DONE});
}
`;

interface Helper {
  readonly worker: HelperThread;
  readonly ctrl: Int32Array;
  readonly args: Float64Array;
  seq: number;
}

/**
 * The WebAssembly kernels instance, its shared memory and up to one helper thread; `run()` runs a kernel
 * split over the threads. Get the shared one with `wasmRuntime()`.
 */
export class WasmRuntime {
  /** Which build of the kernels runs (`simd`, or the opt-in `relaxed` SIMD build). */
  readonly flavor: WasmFlavor;
  /** The shared linear memory every thread computes in. */
  readonly memory: WasmMemory;
  /** First byte address after the module's static data: resident blocks start here. */
  readonly heapBase: number;
  /** Bytes of packing scratch one matmul call needs (the kernels' `gemmScratchBytes()`). */
  readonly gemmScratchBytes: number;
  /** Long-lived blocks (resident weights) from `heapBase` up. */
  readonly heap: WasmHeap;
  readonly #fns: KernelFn[];
  readonly #ex: KernelExports;
  /** Every buffer object `memory.buffer` has returned (one per growth): views on them are ours. */
  readonly #buffers = new WeakSet<object>();
  #helpers: Helper[] = [];
  /** Helpers spawned by `prestartHelpers` and not yet adopted: their threads boot meanwhile. */
  #booting: Helper[] = [];
  #f32: Float32Array;
  #u8: Uint8Array;
  #disposed = false;

  constructor(flavor: WasmFlavor = "simd") {
    this.flavor = flavor;
    const module = wasmModule(flavor);
    const wa = webAssembly!; // wasmModule() succeeded, so the API exists
    this.memory = new wa.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
    const inst = new wa.Instance(module, { env: { memory: this.memory } });
    const ex = inst.exports as unknown as KernelExports & Record<KernelName, KernelFn>;
    this.#fns = KERNELS.map((n) => ex[n]);
    this.#ex = ex;
    this.heapBase = ex.heapBase();
    this.gemmScratchBytes = ex.gemmScratchBytes();
    this.heap = new WasmHeap(this.heapBase);
    this.#buffers.add(this.memory.buffer);
    this.#f32 = new Float32Array(this.memory.buffer);
    this.#u8 = new Uint8Array(this.memory.buffer);
  }

  /** Bytes of linear memory reserved now (it only grows; released when the runtime is dropped). */
  get reservedBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * Bytes of one thread's scratch for `gemmBlocks` (an m×k A packed whole, one block of `chunk`
   * columns of B), as the kernel sizes it.
   */
  gemmBlocksScratchBytes(m: number, k: number, chunk: number): number {
    return this.#ex.gemmBlocksScratchBytes(m, k, chunk);
  }

  /**
   * Bytes of one thread's scratch for a packed GEMV of `m` rows of x, `k` wide, as the kernels size it:
   * `gemvNibbleScratchBytes` for the 4-bit codebook layout (INT4, NF4), else `gemvBlockScratchBytes`
   * (Q8_0, Q4_0, INT8).
   */
  packedGemvScratchBytes(nibble: boolean, m: number, k: number): number {
    return nibble ? this.#ex.gemvNibbleScratchBytes(m, k) : this.#ex.gemvBlockScratchBytes(m, k);
  }

  /** Where per-call workspace starts: above every resident block. */
  get scratchBase(): number {
    return this.heap.top;
  }

  /**
   * The byte address of `view` when it is a view of this runtime's memory (a resident block), else
   * undefined. Kernels read such operands in place instead of copying them.
   */
  addressOf(view: ArrayBufferView): number | undefined {
    return !this.#disposed && this.#buffers.has(view.buffer) ? view.byteOffset : undefined;
  }

  /** True after `dispose()`: kernels can no longer run here. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Helper threads started so far. */
  get helperCount(): number {
    return this.#helpers.length;
  }

  /** Make at least `end` bytes addressable; returns f32/u8 views of the whole memory. */
  ensure(end: number): { f32: Float32Array; u8: Uint8Array } {
    this.#check();
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES) {
        throw new ValueError(
          `WASM workspace of ${end} bytes exceeds the 4 GiB wasm32 limit; split the product or use the JS backend`,
          { bytes: end },
        );
      }
      this.memory.grow(pages);
    }
    if (this.#f32.buffer.byteLength !== this.memory.buffer.byteLength) {
      this.#buffers.add(this.memory.buffer);
      this.#f32 = new Float32Array(this.memory.buffer);
      this.#u8 = new Uint8Array(this.memory.buffer);
    }
    return { f32: this.#f32, u8: this.#u8 };
  }

  /**
   * Run kernel `name` once per entry of `jobs` (each an argument list): jobs[0] on this thread, the
   * others on helper workers (adopted from `prestartHelpers`, or started on first use). Returns when
   * every job has finished. A helper that has not taken its job by the time this thread finished its
   * own (asleep, or not given a core) loses it: this thread runs that job too, so a late helper costs
   * at most its share, never a wake-up.
   */
  run(name: KernelName, jobs: readonly (readonly number[])[]): void {
    this.#check();
    const op = KERNELS.indexOf(name);
    const fn = this.#fns[op]!;
    if (jobs.length === 0) return;
    if (jobs.length > 1 && !host.helpersAllowed()) {
      // No blocking waits here (a page's main thread): the jobs cover disjoint outputs, run them in turn.
      for (const a of jobs) fn(...a);
      return;
    }
    while (this.#helpers.length < jobs.length - 1) this.#startHelper();
    for (let t = 1; t < jobs.length; t++) {
      const h = this.#helpers[t - 1]!;
      const a = jobs[t]!;
      h.args.set(a);
      h.ctrl[OP] = op;
      h.ctrl[NARGS] = a.length;
      h.seq++;
      Atomics.store(h.ctrl, SEQ, h.seq);
      Atomics.notify(h.ctrl, SEQ);
    }
    let own: { error: unknown } | undefined;
    try {
      fn(...jobs[0]!);
    } catch (e) {
      own = { error: e };
    }
    // Even if this thread's share trapped, never return while a helper still writes the memory.
    let failure: unknown;
    for (let t = 1; t < jobs.length; t++) {
      const h = this.#helpers[t - 1]!;
      if (Atomics.compareExchange(h.ctrl, CLAIM, h.seq - 1, h.seq) !== h.seq - 1) {
        try {
          this.#await(h);
        } catch (e) {
          failure ??= e;
        }
      } else if (own === undefined) {
        // Taken back before the helper started it: run here, failing as the helper would have.
        try {
          fn(...jobs[t]!);
        } catch (e) {
          failure ??= helperFailure(name, e);
        }
      }
    }
    // This thread's own failure wins over a helper's.
    if (own !== undefined) throw own.error;
    if (failure !== undefined) throw failure;
  }

  /** Stop helper threads (the memory is freed when the runtime is garbage). Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const h of this.#helpers) {
      h.ctrl[OP] = -1;
      Atomics.store(h.ctrl, SEQ, h.seq + 1);
      Atomics.notify(h.ctrl, SEQ);
      h.worker.terminate();
    }
    for (const h of this.#booting) h.worker.terminate();
    this.#helpers = [];
    this.#booting = [];
  }

  #check(): void {
    if (this.#disposed) throw new ValueError("this WASM runtime was disposed; create a new one", {});
  }

  /**
   * Start helper threads up to `count` without blocking while they boot, and resolve when they are
   * ready. Browsers need this before a multi-threaded `run()`: a Web Worker cannot start while the
   * thread that created it blocks in `Atomics.wait`. Elsewhere `run()` starts helpers on first use
   * (or adopts those `prestartHelpers` started).
   */
  async startHelpers(count: number): Promise<void> {
    this.#check();
    while (this.#helpers.length < count) {
      const h = this.#booting.shift() ?? this.#spawnHelper();
      const deadline = Date.now() + 30_000;
      while (Atomics.load(h.ctrl, STATE) === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      this.#adopt(h);
    }
  }

  /**
   * Start up to `count` helper threads booting without waiting for them, where this host lets a
   * thread block (`run()` adopts them, waiting only for what is left of their boot). A Node helper
   * takes ~100 ms to boot, which a caller that knows it will split work (the 2-thread WASM backend
   * placing resident weights) overlaps with building the model instead of paying it in its first
   * product. Idempotent.
   */
  prestartHelpers(count: number): void {
    this.#check();
    if (!host.helpersAllowed()) return;
    while (this.#helpers.length + this.#booting.length < count) this.#booting.push(this.#spawnHelper());
  }

  #startHelper(): void {
    const h = this.#booting.shift() ?? this.#spawnHelper();
    // Wait (bounded) for the worker to instantiate, so a broken worker fails loudly here.
    const deadline = Date.now() + 30_000;
    while (Atomics.load(h.ctrl, STATE) === 0 && Date.now() < deadline) Atomics.wait(h.ctrl, DONE, 0, 50);
    this.#adopt(h);
  }

  #spawnHelper(): Helper {
    const sab = new SharedArrayBuffer(ARGS_BYTE + MAX_ARGS * 8);
    const ctrl = new Int32Array(sab);
    const worker = host.startHelper(WORKER_SOURCE, {
      module: wasmModule(this.flavor),
      memory: this.memory,
      ctrl: sab,
      names: KERNELS,
    });
    return { worker, ctrl, args: new Float64Array(sab, ARGS_BYTE, MAX_ARGS), seq: 0 };
  }

  /** Keep a started helper, or stop it and throw when it never became ready or failed. */
  #adopt(h: Helper): void {
    const state = Atomics.load(h.ctrl, STATE);
    if (state === 0) {
      h.worker.terminate();
      throw new ValueError("the WASM helper thread did not start within 30 s; use threads: 1", {});
    }
    if (state < 0) {
      h.worker.terminate();
      throw new ValueError("the WASM helper thread failed to instantiate the kernels; use threads: 1", {});
    }
    this.#helpers.push(h);
  }

  /** Block until `h` finished its job (poll up to CALLER_SPIN_MS, then sleep); rethrow its failure. */
  #await(h: Helper): void {
    const until = performance.now() + CALLER_SPIN_MS;
    for (;;) {
      const done = Atomics.load(h.ctrl, DONE);
      if (done === h.seq) break;
      if (performance.now() > until) Atomics.wait(h.ctrl, DONE, done, 1000);
    }
    if (Atomics.load(h.ctrl, STATE) < 0) {
      // The helper survives a trapped kernel: clear the flag so the next run() can use it.
      Atomics.store(h.ctrl, STATE, 1);
      throw helperFailure(KERNELS[Atomics.load(h.ctrl, OP)]!, undefined);
    }
  }
}

/** The error a helper's failed share surfaces as (whichever thread ran it), naming the kernel. */
function helperFailure(kernel: string, cause: unknown): ValueError {
  const why = cause instanceof Error ? `: ${cause.message}` : "";
  return new ValueError(
    `the WASM kernel ${kernel} failed on a helper thread's share${why} (an out-of-bounds address?); check the operands, or use threads: 1 to fail on the calling thread`,
    { kernel },
  );
}

let shared: WasmRuntime | undefined;

/** The process-wide runtime if it was created and not disposed; never creates one. @internal */
export function startedWasmRuntime(): WasmRuntime | undefined {
  return shared?.disposed ? undefined : shared;
}

/**
 * The process-wide runtime (created on first use, of the flavor `wasmFlavor()` names; the module is
 * compiled once and cached). Its `flavor` says which kernels build runs.
 */
export function wasmRuntime(): WasmRuntime {
  shared ??= new WasmRuntime(wasmFlavor());
  return shared;
}

/**
 * Choose which build of the WASM kernels this process runs: `"simd"` (the default) or `"relaxed"`
 * (relaxed-SIMD fused multiply-add: faster GEMM, results not bit-identical to `simd`). One flavor per
 * process, because resident weights live in the one shared runtime. Call it before the first WASM use,
 * or set `TRADEOFFS_WASM_FLAVOR=relaxed` in the environment instead; `undefined` goes back to that
 * variable's choice (else `simd`).
 *
 * On Node it compiles the flavor at once, so a runtime that cannot run it fails here. Side effect:
 * choosing `relaxed` on Node 20–21 sets V8's `--experimental-wasm-relaxed-simd` for the whole process
 * when the module does not validate without it (Node ≥ 22 accepts relaxed SIMD as is). In a browser,
 * call it before `await loadWasm()`, which then fetches this flavor.
 *
 * When a shared runtime of another flavor exists, it is disposed if it holds no resident blocks;
 * otherwise this throws a ConfigError: dispose the resident weights, then call `disposeWasm()`.
 *
 * @throws ConfigError for an unknown name (listing the valid ones), a flavor this runtime rejects, or a
 * live runtime that still holds resident weights.
 * @example
 * ```ts
 * setWasmFlavor("relaxed");
 * setBackend(wasmBackend()); // kernels now use relaxed_madd; wasmRuntime().flavor === "relaxed"
 * ```
 */
export function setWasmFlavor(flavor?: WasmFlavor): void {
  const next = flavor === undefined ? undefined : parseWasmFlavor(flavor, "setWasmFlavor");
  const target = next ?? envWasmFlavor();
  // Check everything before changing anything: a failed call leaves the selection and runtime as they were.
  if (host.name === "node") wasmModule(target);
  if (shared !== undefined && !shared.disposed && shared.flavor !== target) {
    const blocks = shared.heap.liveBlocks;
    if (blocks > 0) {
      throw new ConfigError(
        [
          `cannot switch the WASM flavor from '${shared.flavor}' to '${target}': the shared runtime holds ${blocks} resident block(s) (weights); dispose them and call disposeWasm() first, or choose the flavor before the first WASM use`,
        ],
        { flavor: target, current: shared.flavor, residentBlocks: blocks },
      );
    }
    disposeWasm();
  }
  recordWasmFlavor(next);
}

/** Stop the shared runtime's helper thread and drop its memory (a later call starts afresh). */
export function disposeWasm(): void {
  shared?.dispose();
  shared = undefined;
}

/** Bump allocator over the linear memory for one call: 64-byte aligned offsets from `start`. */
export class Arena {
  /** The first address laid out. */
  readonly start: number;
  #end: number;
  /** Lay out from `start` (callers pass `rt.scratchBase`, above the resident blocks). */
  constructor(start: number) {
    this.start = start;
    this.#end = start;
  }
  /** Reserve `bytes`; returns the byte address. */
  take(bytes: number): number {
    const at = this.#end;
    this.#end = at + Math.ceil(bytes / 64) * 64;
    return at;
  }
  /** The first address past everything laid out so far. */
  get end(): number {
    return this.#end;
  }
}

/**
 * Charge the arena's bytes (`arena.start` to `arena.end`) to `tmp/wasm`, make them addressable and call `fn`
 * with views of the memory; the charge is released when `fn` returns or throws.
 */
export function withWorkspace<T>(
  rt: WasmRuntime,
  arena: Arena,
  fn: (mem: { f32: Float32Array; u8: Uint8Array }) => T,
): T {
  const charge = getLedger().external("tmp/wasm", arena.end - arena.start);
  try {
    return fn(rt.ensure(arena.end));
  } finally {
    charge.release();
  }
}
