/**
 * The memory ledger: every tensor's storage is allocated through it under a category path
 * (`weights/attn`, `kv`, `act`, `grad`, `optim`, `tmp`, ...). It tracks live and peak bytes per path,
 * per top-level category and in total, frees deterministically (reference counts, never GC), and can
 * enforce budgets. Reported memory in this project is what a ledger saw.
 */
import { ArrayPool } from "./array-pool.js";
import { allocArray, type DType, dtypeTraits, type TypedArray } from "./dtype.js";
import { DisposedError, OutOfMemoryError, ValueError } from "./errors.js";

/** Top-level categories; paths may refine them (`weights/attn`). The estimator uses the same keys. */
export const CATEGORIES = ["weights", "adapters", "kv", "act", "grad", "optim", "tmp"] as const;
/**
 * A top-level memory category (`weights`, `adapters`, `kv`, `act`, `grad`, `optim`, `tmp`): one list shared
 * by the ledger and the estimator.
 */
export type Category = (typeof CATEGORIES)[number];
/** A category path such as `weights/ffn` or `tmp`. */
export type CategoryPath = Category | `${Category}/${string}`;

/** The first segment of a category path. */
export function rootCategory(path: string): string {
  const i = path.indexOf("/");
  return i < 0 ? path : path.slice(0, i);
}

/** Live and peak bytes at one moment. `peak` is the high-water mark since the last `resetPeak()`. */
export interface LedgerSnapshot {
  /** Live bytes per top-level category. */
  readonly live: Readonly<Record<string, number>>;
  /** Peak bytes per top-level category (each category's own high-water mark). */
  readonly peak: Readonly<Record<string, number>>;
  /** Live bytes in total. */
  readonly liveTotal: number;
  /** Peak of the total (not the sum of the per-category peaks, which can occur at different times). */
  readonly peakTotal: number;
  /** The same, per full path (`weights/attn`). */
  readonly livePaths: Readonly<Record<string, number>>;
  /** Peak bytes per full path. */
  readonly peakPaths: Readonly<Record<string, number>>;
}

/**
 * One allocation: a typed array plus its accounting. Reference-counted: `retain()` for each extra
 * owner, `release()` when done; the bytes leave the ledger when the count reaches zero.
 */
export class Storage {
  /** The ledger that accounts for these bytes. */
  readonly ledger: MemoryLedger;
  /** Element type of `data`. */
  readonly dtype: DType;
  /** Size in bytes (`data.byteLength`), charged to the ledger while any reference is held. */
  readonly bytes: number;
  #data: TypedArray | null;
  #category: string;
  #refs = 1;
  readonly #pooled: boolean;
  /** How many autograd nodes hold this storage as a saved tensor. */
  savedBy = 0;
  /** The category before the first save moved it to `act`. */
  categoryBeforeSave: string | null = null;

  /**
   * @internal use `MemoryLedger.allocate`. `pooled`: `data` came from the ledger's array pool and
   * goes back to it on the last release.
   */
  constructor(ledger: MemoryLedger, dtype: DType, data: TypedArray, category: string, pooled = false) {
    this.ledger = ledger;
    this.dtype = dtype;
    this.#data = data;
    this.bytes = data.byteLength;
    this.#category = category;
    this.#pooled = pooled;
  }

  /** The elements. Throws `DisposedError` after the last `release()`. */
  get data(): TypedArray {
    if (this.#data === null) throw new DisposedError("storage");
    return this.#data;
  }
  /** Category path the bytes are charged to (`weights/attn`, `act`, …). */
  get category(): string {
    return this.#category;
  }
  /** Number of owners still holding this storage. */
  get refs(): number {
    return this.#refs;
  }
  /** True once the last reference has been released and the bytes left the ledger. */
  get disposed(): boolean {
    return this.#data === null;
  }

  /** Adds one owner (a view that shares this storage); pair with `release()`. */
  retain(): this {
    if (this.#data === null) throw new DisposedError("storage");
    this.#refs++;
    return this;
  }

  /** Drops one owner; the last release frees the bytes from the ledger. Extra calls are ignored. */
  release(): void {
    if (this.#data === null) return;
    if (--this.#refs === 0) {
      this.ledger._free(this.#category, this.bytes);
      if (this.#pooled) this.ledger._recycle(this.dtype, this.#data);
      this.#data = null;
    }
  }

  /** Move the bytes to another category (e.g. `tmp` → `act` when autograd saves the tensor). */
  recategorize(category: string): void {
    if (this.#data === null || category === this.#category) return;
    this.ledger._move(this.#category, category, this.bytes);
    this.#category = category;
  }
}

/** Bytes held outside a typed array the ledger created (e.g. WebAssembly memory). */
export interface ExternalAllocation {
  /** Bytes charged while the allocation is held. */
  readonly bytes: number;
  /** Category path they are charged to. */
  readonly category: string;
  /** Returns the bytes to the ledger (once). */
  release(): void;
}

/**
 * Accounts for every byte a tensor holds: live and peak bytes per category path, optional budgets that raise
 * `OutOfMemoryError`, and measurement windows. Models read and tests assert memory through it.
 */
export class MemoryLedger {
  /** Name used in error messages (default `ledger`). */
  readonly name: string;
  #livePaths = new Map<string, number>();
  #peakPaths = new Map<string, number>();
  #liveRoots = new Map<string, number>();
  #peakRoots = new Map<string, number>();
  #liveTotal = 0;
  #peakTotal = 0;
  #budgets = new Map<string, number>();
  #allocations = 0;
  #charges = 0;
  #failAt: number | undefined;
  readonly #pool = new ArrayPool();

  constructor(options: { name?: string; budget?: number } = {}) {
    this.name = options.name ?? "ledger";
    if (options.budget !== undefined) this.setBudget(options.budget);
  }

  /** Allocate zeroed storage for `length` elements of `dtype` under `category`. */
  allocate(category: string, dtype: DType, length: number): Storage {
    const bytes = length * dtypeTraits(dtype).bytesPerBlock;
    this.#charge(category, bytes);
    let data: TypedArray;
    try {
      data = this.#pool.take(dtype, length) ?? allocArray(dtype, length);
    } catch (e) {
      this._free(category, bytes);
      // The JavaScript engine refused the array (over its typed-array limit or out of memory):
      // our typed error with the category breakdown, never a raw "Invalid typed array length".
      if (e instanceof RangeError) {
        throw new OutOfMemoryError({
          requested: bytes,
          category,
          budget: this.#liveTotal,
          budgetCategory: "* (the JavaScript engine refused the allocation)",
          live: Object.fromEntries(this.#liveRoots),
        });
      }
      throw e;
    }
    this.#allocations++;
    return new Storage(this, dtype, data, category, true);
  }

  /**
   * Bytes of released arrays this ledger keeps to reuse for later allocations of the same dtype and
   * length (at most 4 MiB, arrays of up to 1 MiB). They hold no tensor, so they are not in `live()`; the memory
   * the process holds for tensors is `live() + pooledBytes`.
   */
  get pooledBytes(): number {
    return this.#pool.bytes;
  }

  /** Return the arrays kept for reuse to the garbage collector (`pooledBytes` becomes 0). */
  releasePool(): void {
    this.#pool.clear();
  }

  /** Account for bytes that live outside (e.g. a WebAssembly memory). Release exactly once. */
  external(category: string, bytes: number): ExternalAllocation {
    this.#charge(category, bytes);
    let released = false;
    return {
      bytes,
      category,
      release: () => {
        if (released) return;
        released = true;
        this._free(category, bytes);
      },
    };
  }

  /**
   * Limit live bytes, in total (`category` omitted or `*`) or for one top-level category.
   * `undefined` removes the limit.
   */
  setBudget(bytes: number | undefined, category = "*"): void {
    if (bytes === undefined) {
      this.#budgets.delete(category);
      return;
    }
    if (!(bytes >= 0)) throw new ValueError(`budget must be a non-negative number of bytes, got ${bytes}`);
    this.#budgets.set(category, bytes);
  }

  /** The byte limit on `category` (`*`: the total), if one is set. */
  budget(category = "*"): number | undefined {
    return this.#budgets.get(category);
  }

  /** Live bytes of a top-level category, a full path, or (no argument) in total. */
  live(category?: string): number {
    if (category === undefined) return this.#liveTotal;
    return category.includes("/")
      ? (this.#livePaths.get(category) ?? 0)
      : (this.#liveRoots.get(category) ?? 0);
  }

  /** Peak bytes since the last `resetPeak()`, as `live()`. */
  peak(category?: string): number {
    if (category === undefined) return this.#peakTotal;
    return category.includes("/")
      ? (this.#peakPaths.get(category) ?? 0)
      : (this.#peakRoots.get(category) ?? 0);
  }

  /**
   * Fault injection for tests: the charge with index `index` (0-based, counting every `allocate` and
   * `external` from now on) throws an `OutOfMemoryError` as if a budget were exceeded; `undefined`
   * turns it off. Error paths can then be checked to leave the ledger at its baseline.
   */
  failAt(index: number | undefined): void {
    if (index !== undefined && !(Number.isInteger(index) && index >= 0)) {
      throw new ValueError(`failAt needs a non-negative integer charge index, got ${index}`);
    }
    this.#failAt = index;
    this.#charges = 0;
  }

  /** Charges (allocations and external reservations) since the last `failAt` call. */
  get charges(): number {
    return this.#charges;
  }

  /** Number of storages allocated so far (for tests). */
  get allocations(): number {
    return this.#allocations;
  }

  /** Start a new measurement window: every peak becomes the current live value. */
  resetPeak(): void {
    this.#peakPaths = new Map(this.#livePaths);
    this.#peakRoots = new Map(this.#liveRoots);
    this.#peakTotal = this.#liveTotal;
  }

  /** Live and peak bytes now, per category and per path (frozen, sorted by name). */
  snapshot(): LedgerSnapshot {
    const rec = (m: Map<string, number>) =>
      Object.freeze(Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1))));
    return Object.freeze({
      live: rec(this.#liveRoots),
      peak: rec(this.#peakRoots),
      liveTotal: this.#liveTotal,
      peakTotal: this.#peakTotal,
      livePaths: rec(this.#livePaths),
      peakPaths: rec(this.#peakPaths),
    });
  }

  /**
   * Run `fn` in a fresh measurement window and report peak bytes per category *above* the live
   * bytes at the start (what `fn` itself needed), plus the absolute peaks.
   */
  measure<T>(fn: () => T): {
    result: T;
    peakAbove: Record<string, number>;
    peakAboveTotal: number;
    snapshot: LedgerSnapshot;
  } {
    const before = this.snapshot();
    const outerPaths = this.#peakPaths;
    const outerRoots = this.#peakRoots;
    const outerTotal = this.#peakTotal;
    this.resetPeak();
    try {
      const result = fn();
      const after = this.snapshot();
      const peakAbove: Record<string, number> = {};
      for (const [c, p] of Object.entries(after.peak)) peakAbove[c] = p - (before.live[c] ?? 0);
      return { result, peakAbove, peakAboveTotal: after.peakTotal - before.liveTotal, snapshot: after };
    } finally {
      // Nested measurement must not erase the enclosing window: peaks become max(outer, inner).
      for (const [k, v] of outerPaths) if (v > (this.#peakPaths.get(k) ?? 0)) this.#peakPaths.set(k, v);
      for (const [k, v] of outerRoots) if (v > (this.#peakRoots.get(k) ?? 0)) this.#peakRoots.set(k, v);
      if (outerTotal > this.#peakTotal) this.#peakTotal = outerTotal;
    }
  }

  #charge(category: string, bytes: number): void {
    if (!(Number.isFinite(bytes) && bytes >= 0)) throw new ValueError(`cannot allocate ${bytes} bytes`);
    const root = rootCategory(category);
    if (this.#charges++ === this.#failAt) {
      throw new OutOfMemoryError({
        requested: bytes,
        category,
        budget: this.#liveTotal,
        budgetCategory: "* (injected fault)",
        live: Object.fromEntries(this.#liveRoots),
      });
    }
    for (const [scope, limit] of this.#budgets) {
      const current = scope === "*" ? this.#liveTotal : (this.#liveRoots.get(scope) ?? 0);
      if ((scope === "*" || scope === root) && current + bytes > limit) {
        throw new OutOfMemoryError({
          requested: bytes,
          category,
          budget: limit,
          budgetCategory: scope,
          live: Object.fromEntries(this.#liveRoots),
        });
      }
    }
    this.#add(category, bytes);
  }

  #add(category: string, bytes: number): void {
    const root = rootCategory(category);
    const p = (this.#livePaths.get(category) ?? 0) + bytes;
    this.#livePaths.set(category, p);
    if (p > (this.#peakPaths.get(category) ?? 0)) this.#peakPaths.set(category, p);
    const r = (this.#liveRoots.get(root) ?? 0) + bytes;
    this.#liveRoots.set(root, r);
    if (r > (this.#peakRoots.get(root) ?? 0)) this.#peakRoots.set(root, r);
    this.#liveTotal += bytes;
    if (this.#liveTotal > this.#peakTotal) this.#peakTotal = this.#liveTotal;
  }

  /** @internal a pooled storage's array after its last release. */
  _recycle(dtype: DType, data: TypedArray): void {
    this.#pool.give(dtype, data);
  }

  /** @internal */
  _free(category: string, bytes: number): void {
    const root = rootCategory(category);
    this.#livePaths.set(category, (this.#livePaths.get(category) ?? 0) - bytes);
    this.#liveRoots.set(root, (this.#liveRoots.get(root) ?? 0) - bytes);
    this.#liveTotal -= bytes;
  }

  /**
   * @internal Moving bytes between categories does not change the total, but a budget on the
   * destination category applies (autograd moving `tmp` to `act` must respect an `act` budget).
   */
  _move(from: string, to: string, bytes: number): void {
    const root = rootCategory(to);
    if (rootCategory(from) !== root) {
      const limit = this.#budgets.get(root);
      const current = this.#liveRoots.get(root) ?? 0;
      if (limit !== undefined && current + bytes > limit) {
        throw new OutOfMemoryError({
          requested: bytes,
          category: to,
          budget: limit,
          budgetCategory: root,
          live: Object.fromEntries(this.#liveRoots),
        });
      }
    }
    this._free(from, bytes);
    this.#add(to, bytes);
  }
}

/** What changed between two snapshots, per category: live bytes gained and the later peak above the earlier live. */
export interface LedgerDiff {
  /** Live bytes gained (negative: freed) per category. */
  readonly live: Readonly<Record<string, number>>;
  /** The later peak minus the earlier live bytes, per category. */
  readonly peakAbove: Readonly<Record<string, number>>;
  /** Live bytes gained in total. */
  readonly liveTotal: number;
  /** The later total peak minus the earlier total live bytes. */
  readonly peakAboveTotal: number;
}

/** `after` relative to `before` (take `before`, `resetPeak()`, run, take `after`). */
export function diffSnapshots(before: LedgerSnapshot, after: LedgerSnapshot): LedgerDiff {
  const cats = [
    ...new Set([...Object.keys(before.live), ...Object.keys(after.live), ...Object.keys(after.peak)]),
  ].sort();
  const live: Record<string, number> = {};
  const peakAbove: Record<string, number> = {};
  for (const c of cats) {
    live[c] = (after.live[c] ?? 0) - (before.live[c] ?? 0);
    peakAbove[c] = (after.peak[c] ?? 0) - (before.live[c] ?? 0);
  }
  return Object.freeze({
    live: Object.freeze(live),
    peakAbove: Object.freeze(peakAbove),
    liveTotal: after.liveTotal - before.liveTotal,
    peakAboveTotal: after.peakTotal - before.liveTotal,
  });
}

let current = new MemoryLedger({ name: "default" });

/** The ledger new tensors are allocated from. */
export function getLedger(): MemoryLedger {
  return current;
}

/** Make `ledger` the current one while `fn` runs (restored afterwards, even on throw). */
export function withLedger<T>(ledger: MemoryLedger, fn: () => T): T {
  const prev = current;
  current = ledger;
  try {
    return fn();
  } finally {
    current = prev;
  }
}

/** Replace the current ledger globally (returns the previous one). */
export function setLedger(ledger: MemoryLedger): MemoryLedger {
  const prev = current;
  current = ledger;
  return prev;
}
