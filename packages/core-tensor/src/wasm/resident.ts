/**
 * Resident weights: ledger storages whose bytes live in the WASM linear memory (a `WasmHeap` block),
 * so kernels read them in place with no per-call copy, while JS reads the same bytes through an
 * ordinary typed-array view. Charged once to their own category (e.g. `weights/attn`), freed when
 * the storage's last reference is released. Not here: the kernels that read them (matmul.ts, gemv.ts).
 */
import type { Backend } from "../backend.js";
import { type DType, dtypeTraits, type TypedArray } from "../dtype.js";
import { getLedger, type MemoryLedger, rootCategory, Storage, withLedger } from "../ledger.js";
import { wasmZero } from "./fused.js";
import { WASM_MAX_BYTES, type WasmRuntime } from "./runtime.js";

/** Linear memory left for per-call workspace above the resident blocks (weights stop there). */
export const RESIDENT_HEADROOM = 512 << 20;

/** A storage in a runtime's heap; `address` is the byte address kernels read. */
export class ResidentStorage extends Storage {
  /** The runtime whose heap holds the bytes. */
  readonly runtime: WasmRuntime;
  /** Byte address of the first element in the runtime's linear memory. */
  readonly address: number;
  #freed = false;

  /** @internal use `allocateResident`. */
  constructor(
    ledger: MemoryLedger,
    dtype: DType,
    data: TypedArray,
    category: string,
    rt: WasmRuntime,
    at: number,
  ) {
    super(ledger, dtype, data, category);
    this.runtime = rt;
    this.address = at;
  }

  /** As `Storage.release`; the last release also returns the block to the heap. */
  override release(): void {
    super.release();
    if (this.disposed && !this.#freed) {
      this.#freed = true;
      this.runtime.heap.free(this.address);
    }
  }
}

function view(dtype: DType, buffer: ArrayBufferLike, at: number, length: number): TypedArray {
  switch (dtype) {
    case "f32":
      return new Float32Array(buffer, at, length);
    case "f16":
    case "bf16":
      return new Uint16Array(buffer, at, length);
    case "i8":
      return new Int8Array(buffer, at, length);
    case "u8":
      return new Uint8Array(buffer, at, length);
    case "i32":
      return new Int32Array(buffer, at, length);
  }
}

/**
 * Zeroed storage for `length` elements of `dtype` in `rt`'s heap, charged to `category` in `ledger`
 * (budgets and fault injection apply as for `ledger.allocate`). Release it like any storage.
 * Undefined when the block would not fit below the wasm32 limit with RESIDENT_HEADROOM to spare, or
 * the memory cannot grow: the caller then allocates an ordinary storage (kernels copy it per call).
 */
export function allocateResident(
  rt: WasmRuntime,
  ledger: MemoryLedger,
  category: string,
  dtype: DType,
  length: number,
): ResidentStorage | undefined {
  const bytes = length * dtypeTraits(dtype).bytesPerBlock;
  if (rt.heap.top + bytes + RESIDENT_HEADROOM > WASM_MAX_BYTES) return undefined;
  // The storage's release frees exactly these bytes from the ledger (Storage.release → ledger._free).
  const charge = ledger.external(category, bytes);
  const at = rt.heap.alloc(Math.max(bytes, 1));
  try {
    const { u8 } = rt.ensure(at + rt.heap.sizeOf(at));
    // Zeroed by one wasm memory.fill: a JS fill of shared memory stores element by element (1 MiB: 38 µs
    // as Float64Array, 8 µs memory.fill), and training allocates its optimizer state here per run.
    wasmZero(rt, at, bytes);
    return new ResidentStorage(ledger, dtype, view(dtype, u8.buffer, at, length), category, rt, at);
  } catch (e) {
    rt.heap.free(at);
    charge.release();
    if (e instanceof RangeError) return undefined; // the OS refused to grow the memory
    throw e;
  }
}

/** Top-level categories whose allocations `withResidentWeights` places in the backend's memory. */
const RESIDENT_ROOTS = new Set(["weights", "adapters"]);

/**
 * Run `fn` (which packs a weight) so that its `weights/…` and `adapters/…` allocations are made by
 * `backend.allocateResident` when the backend has one (and room); every other allocation, and
 * everything when it has none, goes to the current ledger as usual. The charges land in the current ledger either way.
 */
export function withResidentWeights<T>(backend: Backend, fn: () => T): T {
  const place = backend.allocateResident;
  if (!place) return fn();
  const real = getLedger();
  const placing = new Proxy(real, {
    get(target, prop) {
      if (prop === "allocate") {
        return (category: string, dtype: DType, length: number): Storage =>
          RESIDENT_ROOTS.has(rootCategory(category)) && length > 0
            ? (place(target, category, dtype, length) ?? target.allocate(category, dtype, length))
            : target.allocate(category, dtype, length);
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return withLedger(placing, fn);
}
