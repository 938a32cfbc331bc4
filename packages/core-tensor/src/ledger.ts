/**
 * The memory ledger: every tensor's storage is allocated through it under a category path
 * (`weights/attn`, `kv`, `act`, `grad`, `optim`, `tmp`, ...). It tracks live and peak bytes per path,
 * per top-level category and in total, frees deterministically (reference counts, never GC), and can
 * enforce budgets. Reported memory in this project is what a ledger saw.
 */
import { ArrayPool } from "./array-pool.js";
import { type DType, dtypeTraits, type TypedArray } from "./dtype.js";
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

  /**
   * The elements. Throws `DisposedError` after the last `release()`; an array read before it is valid
   * only until then, since the ledger's array pool may hand its buffer to a later allocation.
   */
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
      if (this.#pooled) this.ledger._recycle(this.#data);
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

/** Live and peak bytes of one category path or top-level category; `peakSeen`: a peak was recorded. */
interface Tally {
  live: number;
  peak: number;
  peakSeen: boolean;
}
/** A full path's tally and its top-level category's. */
interface PathTally extends Tally {
  readonly root: Tally;
  readonly rootName: string;
}

function addTally(t: Tally, bytes: number): void {
  t.live += bytes;
  if (t.live > t.peak) {
    t.peak = t.live;
    t.peakSeen = true;
  }
}

function resetTally(t: Tally): void {
  t.peak = t.live;
  t.peakSeen = true;
}

/**
 * Accounts for every byte a tensor holds: live and peak bytes per category path, optional budgets that raise
 * `OutOfMemoryError`, and measurement windows. Models read and tests assert memory through it.
 */
export class MemoryLedger {
  /** Name used in error messages (default `ledger`). */
  readonly name: string;
  /** Per full path, each pointing at its top-level category's tally: one lookup per charge or free. */
  readonly #paths = new Map<string, PathTally>();
  readonly #roots = new Map<string, Tally>();
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
      data = this.#pool.allocate(dtype, length);
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
          live: this.#liveByRoot(),
        });
      }
      throw e;
    }
    this.#allocations++;
    return new Storage(this, dtype, data, category, true);
  }

  /**
   * Bytes of released buffers this ledger keeps to reuse for later allocations of a similar size (at
   * most 4 MiB; arrays of up to 1 MiB, whose buffers are rounded up by at most 1/8: array-pool.ts).
   * They hold no tensor, so they are not in `live()`: the process holds `live() + pooledBytes` plus
   * that rounding for its tensors.
   */
  get pooledBytes(): number {
    return this.#pool.bytes;
  }

  /** Return the buffers kept for reuse to the garbage collector (`pooledBytes` becomes 0). */
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
    return (category.includes("/") ? this.#paths : this.#roots).get(category)?.live ?? 0;
  }

  /** Peak bytes since the last `resetPeak()`, as `live()`. */
  peak(category?: string): number {
    if (category === undefined) return this.#peakTotal;
    const t = (category.includes("/") ? this.#paths : this.#roots).get(category);
    return t?.peak ?? 0;
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
    for (const t of this.#paths.values()) resetTally(t);
    for (const t of this.#roots.values()) resetTally(t);
    this.#peakTotal = this.#liveTotal;
  }

  /** Live and peak bytes now, per category and per path (frozen, sorted by name). */
  snapshot(): LedgerSnapshot {
    const rec = (m: ReadonlyMap<string, Tally>, peak: boolean) =>
      Object.freeze(
        Object.fromEntries(
          [...m]
            .filter(([, t]) => !peak || t.peakSeen)
            .map(([k, t]) => [k, peak ? t.peak : t.live] as const)
            .sort(([a], [b]) => (a < b ? -1 : 1)),
        ),
      );
    return Object.freeze({
      live: rec(this.#roots, false),
      peak: rec(this.#roots, true),
      liveTotal: this.#liveTotal,
      peakTotal: this.#peakTotal,
      livePaths: rec(this.#paths, false),
      peakPaths: rec(this.#paths, true),
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
    const outer = [...this.#paths.values(), ...this.#roots.values()]
      .filter((t) => t.peakSeen)
      .map((t) => [t, t.peak] as const);
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
      for (const [t, v] of outer) {
        if (v > (t.peakSeen ? t.peak : 0)) {
          t.peak = v;
          t.peakSeen = true;
        }
      }
      if (outerTotal > this.#peakTotal) this.#peakTotal = outerTotal;
    }
  }

  #charge(category: string, bytes: number): void {
    if (!(Number.isFinite(bytes) && bytes >= 0)) throw new ValueError(`cannot allocate ${bytes} bytes`);
    if (this.#charges++ === this.#failAt) {
      throw new OutOfMemoryError({
        requested: bytes,
        category,
        budget: this.#liveTotal,
        budgetCategory: "* (injected fault)",
        live: this.#liveByRoot(),
      });
    }
    // A refused charge leaves no trace: the path's tally is created after the budget checks.
    const known = this.#paths.get(category);
    const root = this.#budgets.size === 0 ? "" : (known?.rootName ?? rootCategory(category));
    for (const [scope, limit] of this.#budgets) {
      const current = scope === "*" ? this.#liveTotal : (this.#roots.get(scope)?.live ?? 0);
      if ((scope === "*" || scope === root) && current + bytes > limit) {
        throw new OutOfMemoryError({
          requested: bytes,
          category,
          budget: limit,
          budgetCategory: scope,
          live: this.#liveByRoot(),
        });
      }
    }
    this.#add(known ?? this.#tally(category), bytes);
  }

  /** The tally of a category path (created with its root's on first use). */
  #tally(category: string): PathTally {
    let t = this.#paths.get(category);
    if (t === undefined) {
      const rootName = rootCategory(category);
      let root = this.#roots.get(rootName);
      if (root === undefined) {
        root = { live: 0, peak: 0, peakSeen: false };
        this.#roots.set(rootName, root);
      }
      t = { live: 0, peak: 0, peakSeen: false, root, rootName };
      this.#paths.set(category, t);
    }
    return t;
  }

  /** Live bytes per top-level category (for error messages). */
  #liveByRoot(): Record<string, number> {
    return Object.fromEntries([...this.#roots].map(([k, t]) => [k, t.live]));
  }

  #add(t: PathTally, bytes: number): void {
    addTally(t, bytes);
    addTally(t.root, bytes);
    this.#liveTotal += bytes;
    if (this.#liveTotal > this.#peakTotal) this.#peakTotal = this.#liveTotal;
  }

  /** @internal a pooled storage's array after its last release (its buffer may be reused). */
  _recycle(data: TypedArray): void {
    this.#pool.give(data);
  }

  /** @internal */
  _free(category: string, bytes: number): void {
    const t = this.#tally(category);
    t.live -= bytes;
    t.root.live -= bytes;
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
      const current = this.#roots.get(root)?.live ?? 0;
      if (limit !== undefined && current + bytes > limit) {
        throw new OutOfMemoryError({
          requested: bytes,
          category: to,
          budget: limit,
          budgetCategory: root,
          live: this.#liveByRoot(),
        });
      }
    }
    this._free(from, bytes);
    this.#add(this.#tally(to), bytes);
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
