/**
 * Tensor: a shape, a dtype and a contiguous row-major window (offset, size) into a ledger `Storage`.
 * Views along the leading axis and reshapes share storage; anything that changes the layout copies,
 * and the copy is a new allocation the ledger sees. Disposal is explicit (`dispose()`, `scope()`).
 */
import type { GradNode } from "./autograd.js";
import { getBackend } from "./backend.js";
import { type DType, dtypeTraits, type TypedArray } from "./dtype.js";
import { DisposedError, DTypeError, ShapeError, ValueError } from "./errors.js";
import { getLedger, type MemoryLedger, type Storage } from "./ledger.js";
import type { Rng } from "./rng.js";

/** A tensor's dimensions, outermost first (row-major); `[]` is a scalar. */
export type Shape = readonly number[];

/** Options accepted by every tensor constructor. */
export interface TensorOptions {
  /** Element type; default `f32`. */
  readonly dtype?: DType;
  /** Ledger category path; default `tmp`. */
  readonly category?: string;
  /** Ledger that accounts for the storage; default the current one (`getLedger()`). */
  readonly ledger?: MemoryLedger;
  /** Record operations on this tensor for `backward()` (a leaf that accumulates `grad`). */
  readonly requiresGrad?: boolean;
  /**
   * Place the storage in the active backend's own memory when it offers one and has room
   * (`Backend.allocateResident`: the WASM backend's linear memory, whose kernels then read it in place
   * instead of copying it in per call); otherwise an ordinary storage. Charged to the same category
   * either way. For a temporary that is written once and read by kernels (a KV cache read). Default
   * false.
   */
  readonly resident?: boolean;
}

/**
 * An n-dimensional array: a shape and dtype over a contiguous row-major window of a ledger `Storage`.
 * Leading-axis views and reshapes share storage; release it with `dispose()` or `scope()`.
 */
export class Tensor {
  /** Dimensions, outermost first (frozen). */
  readonly shape: Shape;
  /** Element type (the storage's). */
  readonly dtype: DType;
  /** Number of elements (the product of `shape`). */
  readonly size: number;
  /** Element offset of this tensor's first element in its storage. */
  readonly offset: number;
  #storage: Storage | null;
  /** Whether operations on this tensor are recorded for `backward()`. */
  requiresGrad = false;
  /** Accumulated gradient (category `grad` for leaves). */
  grad: Tensor | null = null;
  /** The autograd node that produced this tensor, if it was recorded. */
  gradFn: GradNode | null = null;
  /** Optional name used in error messages and parameter listings. */
  name: string | undefined = undefined;
  /** @internal set by `keep()`. */
  _kept = false;

  /** Takes ownership of one reference to `storage` (call `storage.retain()` first for a view). */
  constructor(storage: Storage, shape: Shape, offset = 0) {
    const size = shapeSize(shape);
    if (offset + size > storage.data.length) {
      throw new ShapeError(
        "Tensor",
        `window [${offset}, ${offset + size}) exceeds storage of ${storage.data.length}`,
      );
    }
    this.#storage = storage;
    this.shape = Object.freeze([...shape]);
    this.dtype = storage.dtype;
    this.size = size;
    this.offset = offset;
    trackInScope(this);
  }

  /** The backing storage. Throws `DisposedError` once this handle is disposed. */
  get storage(): Storage {
    if (this.#storage === null) throw new DisposedError(this.describe());
    return this.#storage;
  }

  /** True once this handle or its storage has been released. */
  get disposed(): boolean {
    return this.#storage === null || this.#storage.disposed;
  }

  /** Number of axes (`shape.length`). */
  get rank(): number {
    return this.shape.length;
  }

  /** Size of axis `i` (negative counts from the end). */
  dim(i: number): number {
    const d = this.shape[i < 0 ? this.shape.length + i : i];
    if (d === undefined) throw new ShapeError("dim", `axis ${i} out of range for shape [${this.shape}]`);
    return d;
  }

  /**
   * The f32 elements of this tensor (a live view, not a copy). Valid while the tensor's storage is:
   * after the last release its buffer may be reused by another tensor (the ledger's array pool).
   */
  get data(): Float32Array {
    if (this.dtype !== "f32") {
      throw new DTypeError(`${this.describe()}: .data needs f32; use .values for ${this.dtype} or toF32()`, {
        dtype: this.dtype,
      });
    }
    return (this.storage.data as Float32Array).subarray(this.offset, this.offset + this.size);
  }

  /** The i32 elements of this tensor (token ids, indices). */
  get int32(): Int32Array {
    if (this.dtype !== "i32") throw new DTypeError(`${this.describe()}: .int32 needs i32, got ${this.dtype}`);
    return (this.storage.data as Int32Array).subarray(this.offset, this.offset + this.size);
  }

  /** The raw typed elements (Uint16Array for f16/bf16 bits). */
  get values(): TypedArray {
    return this.storage.data.subarray(this.offset, this.offset + this.size);
  }

  /** Bytes this tensor's window occupies. */
  get bytes(): number {
    return this.size * dtypeTraits(this.dtype).bytesPerBlock;
  }

  /** Decoded values as a plain array (for tests and small outputs). */
  toArray(): number[] {
    if (this.dtype === "f32" || this.dtype === "i32" || this.dtype === "i8" || this.dtype === "u8") {
      return Array.from(this.values);
    }
    const out = new Float32Array(this.size);
    const v = this.values;
    dtypeTraits(this.dtype).toFloat(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), out);
    return Array.from(out);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new ShapeError("item", `needs exactly one element, shape is [${this.shape}]`);
    return this.toArray()[0]!;
  }

  /** Release this handle's reference to its storage. Idempotent. */
  dispose(): void {
    if (this.#storage === null) return;
    this.#storage.release();
    this.#storage = null;
    if (this.grad && !this.grad.disposed) this.grad.dispose();
    this.grad = null;
    // The node stays reachable from this handle (for backward from a live descendant); dropping
    // our reference frees its saved tensors once nothing downstream needs them.
    this.gradFn?.drop();
  }

  /** A short label for messages: name (if any), shape and dtype, e.g. `'wq' tensor[64×64] f32`. */
  describe(): string {
    return `${this.name ? `'${this.name}' ` : ""}tensor[${this.shape.join("×")}] ${this.dtype}`;
  }

  /** Same as `describe()`. */
  toString(): string {
    return this.describe();
  }
}

/** Product of the dimensions; validates that each is a non-negative integer. */
export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) {
    if (!(Number.isInteger(d) && d >= 0)) {
      throw new ShapeError("shape", `dimensions must be non-negative integers, got [${shape.join(", ")}]`);
    }
    n *= d;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Scopes: every tensor created while a scope is open is disposed when it closes, unless returned.

const scopeStack: Set<Tensor>[] = [];

function trackInScope(t: Tensor): void {
  scopeStack[scopeStack.length - 1]?.add(t);
}

/**
 * Run `fn`; dispose every tensor it created except those in its return value (a tensor, or arrays /
 * plain objects of them) and those passed to `keep()`. On throw, everything it created is disposed.
 * Synchronous functions only.
 */
export function scope<T>(fn: () => T): T {
  const created = new Set<Tensor>();
  scopeStack.push(created);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopeStack.pop();
    for (const t of created) if (!t._kept) t.dispose();
    throw e;
  }
  scopeStack.pop();
  const returned = new Set<Tensor>();
  collectTensors(result, returned, 0);
  for (const t of created) if (!returned.has(t) && !t._kept) t.dispose();
  const parent = scopeStack[scopeStack.length - 1];
  if (parent) for (const t of returned) if (created.has(t)) parent.add(t);
  return result;
}

/** Exempt `t` from disposal by the enclosing scopes. Returns `t`. */
export function keep<T extends Tensor>(t: T): T {
  t._kept = true;
  for (const s of scopeStack) s.delete(t);
  return t;
}

function collectTensors(v: unknown, out: Set<Tensor>, depth: number): void {
  if (depth > 8 || v === null || typeof v !== "object") return;
  if (v instanceof Tensor) {
    out.add(v);
    return;
  }
  if (Array.isArray(v)) {
    for (const x of v) collectTensors(x, out, depth + 1);
    return;
  }
  if (v instanceof Map) {
    for (const x of v.values()) collectTensors(x, out, depth + 1);
    return;
  }
  if (Object.getPrototypeOf(v) === Object.prototype) {
    for (const x of Object.values(v)) collectTensors(x, out, depth + 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Creation.

/** A new zero-filled tensor. */
export function empty(shape: Shape, options: TensorOptions = {}): Tensor {
  const ledger = options.ledger ?? getLedger();
  const category = options.category ?? "tmp";
  const dtype = options.dtype ?? "f32";
  const n = shapeSize(shape);
  const place = options.resident && n > 0 ? getBackend().allocateResident : undefined;
  const storage = place?.(ledger, category, dtype, n) ?? ledger.allocate(category, dtype, n);
  const t = new Tensor(storage, shape);
  if (options.requiresGrad) t.requiresGrad = true;
  return t;
}

/** A new zero-filled tensor (an alias of `empty`: storage is always zeroed). */
export const zeros = empty;

/** A new tensor with every element set to `value` (encoded for 16-bit float dtypes). */
export function full(shape: Shape, value: number, options: TensorOptions = {}): Tensor {
  const t = empty(shape, options);
  if (t.dtype === "f32" || t.dtype === "i32" || t.dtype === "i8" || t.dtype === "u8") t.values.fill(value);
  else {
    const enc = new Uint8Array(2);
    dtypeTraits(t.dtype).fromFloat(Float32Array.of(value), enc);
    (t.values as Uint16Array).fill(enc[0]! | (enc[1]! << 8));
  }
  return t;
}

/** A new tensor of ones. */
export function ones(shape: Shape, options: TensorOptions = {}): Tensor {
  return full(shape, 1, options);
}

/** A tensor from flat values (and a shape; default 1-D), or from nested arrays. */
export function tensor(
  values: ArrayLike<number> | NestedArray,
  shape?: Shape,
  options: TensorOptions = {},
): Tensor {
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (Array.isArray(values) && values.length > 0 && Array.isArray(values[0])) {
    inferred = [];
    flat = flattenNested(values as NestedArray, inferred);
  } else {
    flat = values as ArrayLike<number>;
    inferred = [flat.length];
  }
  const s = shape ?? inferred;
  if (shapeSize(s) !== flat.length) {
    throw new ShapeError("tensor", `${flat.length} values do not fill shape [${s.join(", ")}]`);
  }
  const t = empty(s, options);
  const dtype = t.dtype;
  if (dtype === "f16" || dtype === "bf16") {
    const src = Float32Array.from(flat);
    const v = t.values;
    dtypeTraits(dtype).fromFloat(src, new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  } else {
    t.values.set(flat);
  }
  return t;
}

/** Nested number arrays, as `tensor()` accepts them; every level must be rectangular. */
export type NestedArray = readonly (number | NestedArray)[];

function flattenNested(v: NestedArray, shape: number[]): number[] {
  const out: number[] = [];
  const walk = (x: NestedArray | number, depth: number) => {
    if (typeof x === "number") {
      if (depth !== shape.length) throw new ShapeError("tensor", "ragged nested array");
      out.push(x);
      return;
    }
    if (shape.length === depth) shape.push(x.length);
    else if (shape[depth] !== x.length) throw new ShapeError("tensor", "ragged nested array");
    for (const y of x) walk(y, depth + 1);
  };
  walk(v, 0);
  return out;
}

/** Normal(mean, std) samples from a seeded `Rng`. */
export function randn(
  shape: Shape,
  rng: Rng,
  options: TensorOptions & { mean?: number; std?: number } = {},
): Tensor {
  const t = empty(shape, { ...options, dtype: "f32" });
  rng.fillNormal(t.data, options.mean ?? 0, options.std ?? 1);
  return t;
}

/** Uniform [low, high) samples from a seeded `Rng`. */
export function rand(
  shape: Shape,
  rng: Rng,
  options: TensorOptions & { low?: number; high?: number } = {},
): Tensor {
  const low = options.low ?? 0;
  const high = options.high ?? 1;
  if (!(high > low)) throw new ValueError(`rand: need high > low, got [${low}, ${high})`);
  const t = empty(shape, { ...options, dtype: "f32" });
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = low + (high - low) * rng.uniform();
  return t;
}

/** 0, 1, ..., n-1 as i32 (or f32 with `dtype`). */
export function arange(n: number, options: TensorOptions = {}): Tensor {
  const t = empty([n], { dtype: "i32", ...options });
  const v = t.values;
  for (let i = 0; i < n; i++) v[i] = i;
  return t;
}

/** A deep copy (new storage) under `category` (default: the same category as `t`). */
export function clone(t: Tensor, options: TensorOptions = {}): Tensor {
  const out = empty(t.shape, {
    dtype: t.dtype,
    category: options.category ?? t.storage.category,
    ...options,
  });
  out.values.set(t.values);
  return out;
}

/** Decode any tensor dtype to a new f32 tensor. */
export function toF32(t: Tensor, options: TensorOptions = {}): Tensor {
  const out = empty(t.shape, { ...options, dtype: "f32" });
  const v = t.values;
  if (t.dtype === "f32" || t.dtype === "i32" || t.dtype === "i8" || t.dtype === "u8") out.data.set(v);
  else dtypeTraits(t.dtype).toFloat(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), out.data);
  return out;
}

/** Encode an f32 tensor to `dtype` (new storage; rounding as the dtype defines). */
export function castTo(t: Tensor, dtype: DType, options: TensorOptions = {}): Tensor {
  const src = t.dtype === "f32" ? t : toF32(t);
  const out = empty(t.shape, { ...options, dtype });
  const v = out.values;
  dtypeTraits(dtype).fromFloat(src.data, new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  if (src !== t) src.dispose();
  return out;
}

/** A new handle sharing `t`'s storage (no copy, no autograd history). */
export function alias(t: Tensor, shape: Shape = t.shape, offset = t.offset): Tensor {
  return new Tensor(t.storage.retain(), shape, offset);
}
