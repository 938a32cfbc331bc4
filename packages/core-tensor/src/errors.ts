/**
 * Typed errors. Every error carries the values involved in `details` and a message that ends with
 * what to do next. Catch `TradeoffsError` to handle all of them.
 */

/** Base class of every error this project throws on purpose. */
export class TradeoffsError extends Error {
  /** Stable machine-readable code, e.g. `E_SHAPE`. */
  readonly code: string;
  /** The values involved (shapes, dtypes, bytes, names). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = Object.freeze({ ...details });
  }
}

/** Shapes that do not fit an op (names the op and the shapes). */
export class ShapeError extends TradeoffsError {
  constructor(op: string, message: string, details: Record<string, unknown> = {}) {
    super("E_SHAPE", `${op}: ${message}`, { op, ...details });
  }
}

/** A dtype an op cannot take, or an unknown dtype name. */
export class DTypeError extends TradeoffsError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("E_DTYPE", message, details);
  }
}

/** An argument outside its valid range (names the value and what would be valid). */
export class ValueError extends TradeoffsError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("E_VALUE", message, details);
  }
}

/** Use of a tensor or storage after `dispose()`. */
export class DisposedError extends TradeoffsError {
  constructor(what: string) {
    super("E_DISPOSED", `${what} was used after dispose(); keep it out of the scope or call keep() on it`, {
      what,
    });
  }
}

/** An allocation that would exceed the ledger's budget (total or per category). */
export class OutOfMemoryError extends TradeoffsError {
  /** Bytes the failed allocation asked for. */
  readonly requested: number;
  /** Category path of the failed allocation. */
  readonly category: string;
  /** The limit that would have been exceeded, in bytes. */
  readonly budget: number;
  /** Which budget: a top-level category, or `*` for the total. */
  readonly budgetCategory: string;
  /** Live bytes per category at the time of the failure. */
  readonly live: Readonly<Record<string, number>>;

  constructor(args: {
    requested: number;
    category: string;
    budget: number;
    budgetCategory: string;
    live: Record<string, number>;
  }) {
    const breakdown = Object.entries(args.live)
      .filter(([, b]) => b > 0)
      .map(([c, b]) => `${c}=${formatBytes(b)}`)
      .join(", ");
    const scope = args.budgetCategory === "*" ? "total" : `'${args.budgetCategory}'`;
    super(
      "E_OOM",
      `out of memory: allocating ${formatBytes(args.requested)} for '${args.category}' would exceed the ${scope} budget of ${formatBytes(args.budget)} (live: ${breakdown || "nothing"}); raise the budget or free tensors first`,
      { ...args },
    );
    this.requested = args.requested;
    this.category = args.category;
    this.budget = args.budget;
    this.budgetCategory = args.budgetCategory;
    this.live = Object.freeze({ ...args.live });
  }
}

/** A configuration string or composition with one or more problems (all of them are listed). */
export class ConfigError extends TradeoffsError {
  /** Every problem found, one message each (the error message lists them all). */
  readonly problems: readonly string[];
  constructor(problems: readonly string[], details: Record<string, unknown> = {}) {
    const message =
      problems.length === 1
        ? (problems[0] ?? "")
        : `${problems.length} problems:\n  - ${problems.join("\n  - ")}`;
    super("E_CONFIG", message, { problems, ...details });
    this.problems = Object.freeze([...problems]);
  }
}

/** A malformed or unsupported file (npy, safetensors, json). Names the file part and the offset. */
export class FormatError extends TradeoffsError {
  constructor(format: string, message: string, details: Record<string, unknown> = {}) {
    super("E_FORMAT", `${format}: ${message}`, { format, ...details });
  }
}

/** Human-readable bytes with binary units (KiB, MiB, GiB). */
export function formatBytes(bytes: number): string {
  const abs = Math.abs(bytes);
  if (abs < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = bytes / 1024;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2)} ${units[i]}`;
}

/** The known name closest to `input` by edit distance (case-insensitive), if reasonably close. */
export function closestMatch(input: string, known: readonly string[]): string | undefined {
  const a = input.toLowerCase();
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = editDistance(a, k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.ceil(a.length / 2)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}
