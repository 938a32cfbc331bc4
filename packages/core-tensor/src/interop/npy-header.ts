/**
 * The `.npy` header: a Python dict literal (`{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`)
 * parsed in one linear pass with bounded nesting, checked as NumPy checks it. This is a reader of the
 * literal subset NumPy writes (str, bool, None, int, tuple, list, dict), not a Python evaluator.
 */
import { FormatError } from "../errors.js";

/**
 * The longest header accepted, in bytes. NumPy's `np.load` refuses headers longer than
 * `max_header_size = 10000` characters by default (numpy/lib/_format_impl.py, `_MAX_HEADER_SIZE`,
 * NumPy ≥ 1.24): real headers are under 200 bytes, since NumPy allows at most 64 dimensions.
 */
export const NPY_MAX_HEADER_BYTES = 10_000;

/** Deepest bracket nesting accepted (NumPy's own headers nest two deep). */
const MAX_DEPTH = 32;

/** What a valid header holds. */
export interface NpyHeader {
  readonly descr: string;
  readonly fortranOrder: boolean;
  readonly shape: number[];
}

type PyValue =
  | { readonly kind: "str"; readonly value: string }
  | { readonly kind: "int"; readonly value: bigint }
  | { readonly kind: "bool"; readonly value: boolean }
  | { readonly kind: "none" }
  | { readonly kind: "tuple" | "list"; readonly items: PyValue[] }
  | { readonly kind: "dict"; readonly entries: Map<string, PyValue>; readonly otherKeys: number };

const ESCAPES: Record<string, string> = {
  "\\": "\\",
  "'": "'",
  '"': '"',
  n: "\n",
  t: "\t",
  r: "\r",
  "0": "\0",
  a: "\x07",
  b: "\b",
  f: "\f",
  v: "\v",
};
/** Python int literals: decimal (no leading zeros), 0x, 0o, 0b, with single underscores between digits. */
const INT = /^(?:[1-9](?:_?[0-9])*|0(?:_?0)*|0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+)$/;

/** A linear-time reader of one Python literal; every character is looked at a bounded number of times. */
class LiteralReader {
  pos = 0;
  constructor(
    private readonly s: string,
    private readonly allowLongSuffix: boolean,
  ) {}

  fail(what: string): never {
    const near = this.s.slice(this.pos, this.pos + 24);
    throw new FormatError(
      "npy",
      `header is not a Python literal NumPy could read: ${what} at character ${this.pos}${near ? ` (near ${JSON.stringify(near)})` : ""}; re-save the array with numpy.save`,
      { position: this.pos },
    );
  }

  /** Skip whitespace and `#` comments. */
  skip(): void {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v") this.pos++;
      else if (c === "#") {
        while (this.pos < s.length && s[this.pos] !== "\n") this.pos++;
      } else break;
    }
  }

  atEnd(): boolean {
    this.skip();
    return this.pos >= this.s.length;
  }

  value(depth: number): PyValue {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    this.skip();
    const c = this.s[this.pos];
    if (c === undefined) this.fail("unexpected end");
    if (c === "{") return this.dict(depth);
    if (c === "(") return this.sequence("(", ")", depth);
    if (c === "[") return this.sequence("[", "]", depth);
    if (c === "'" || c === '"') return { kind: "str", value: this.string() };
    if ((c === "u" || c === "U") && (this.s[this.pos + 1] === "'" || this.s[this.pos + 1] === '"')) {
      this.pos++;
      return { kind: "str", value: this.string() };
    }
    if (c === "-" || c === "+" || (c >= "0" && c <= "9")) return this.int();
    const start = this.pos;
    const word = this.word();
    if (word === "True" || word === "False") return { kind: "bool", value: word === "True" };
    if (word === "None") return { kind: "none" };
    this.pos = start;
    return this.fail(word === "" ? `unexpected '${c}'` : `unknown name '${word.slice(0, 24)}'`);
  }

  private word(): string {
    const start = this.pos;
    while (this.pos < this.s.length && /[A-Za-z0-9_]/.test(this.s[this.pos]!)) this.pos++;
    return this.s.slice(start, this.pos);
  }

  private int(): PyValue {
    const negative = this.s[this.pos] === "-";
    if (negative || this.s[this.pos] === "+") {
      this.pos++;
      this.skip();
    }
    const start = this.pos;
    let token = this.word();
    // Python 2 wrote longs as `3L`; NumPy strips the suffix for format versions 1.0 and 2.0.
    if (this.allowLongSuffix && /^[0-9]+[lL]$/.test(token)) token = token.slice(0, -1);
    if (!INT.test(token)) {
      this.pos = start;
      this.fail(`'${token.slice(0, 24)}' is not an integer`);
    }
    const v = BigInt(token.replaceAll("_", ""));
    return { kind: "int", value: negative ? -v : v };
  }

  private string(): string {
    const s = this.s;
    const quote = s[this.pos]!;
    if (s[this.pos + 1] === quote && s[this.pos + 2] === quote) this.fail("triple-quoted strings");
    this.pos++;
    let out = "";
    let run = this.pos;
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (c === quote) {
        out += s.slice(run, this.pos);
        this.pos++;
        return out;
      }
      if (c === "\n") break;
      if (c === "\\") {
        out += s.slice(run, this.pos);
        const e = s[this.pos + 1];
        if (e === undefined) break;
        if (e === "x" && /^[0-9a-fA-F]{2}$/.test(s.slice(this.pos + 2, this.pos + 4))) {
          out += String.fromCharCode(Number.parseInt(s.slice(this.pos + 2, this.pos + 4), 16));
          this.pos += 4;
        } else if (e === "\n") {
          this.pos += 2; // a line continuation inside a string
        } else {
          // Python keeps an unknown escape as written (backslash included).
          out += ESCAPES[e] ?? `\\${e}`;
          this.pos += 2;
        }
        run = this.pos;
        continue;
      }
      this.pos++;
    }
    return this.fail("unterminated string");
  }

  /** `( ... )` or `[ ... ]`; `(x)` is x itself and `(x,)` a one-tuple, as in Python. */
  private sequence(open: "(" | "[", close: ")" | "]", depth: number): PyValue {
    this.pos++;
    const items: PyValue[] = [];
    let trailingComma = false;
    for (;;) {
      this.skip();
      if (this.s[this.pos] === close) {
        this.pos++;
        break;
      }
      if (items.length > 0 && !trailingComma) this.fail(`expected ',' or '${close}'`);
      items.push(this.value(depth + 1));
      this.skip();
      trailingComma = this.s[this.pos] === ",";
      if (trailingComma) this.pos++;
    }
    if (open === "[") return { kind: "list", items };
    if (items.length === 1 && !trailingComma) return items[0]!;
    return { kind: "tuple", items };
  }

  /** `{k: v, ...}`; a repeated key keeps its last value, as Python's dict display does. */
  private dict(depth: number): PyValue {
    this.pos++;
    const entries = new Map<string, PyValue>();
    const others = new Set<string>();
    for (;;) {
      this.skip();
      if (this.s[this.pos] === "}") break;
      const key = this.value(depth + 1);
      this.skip();
      if (this.s[this.pos] !== ":") this.fail("expected ':' after a dict key");
      this.pos++;
      const value = this.value(depth + 1);
      if (key.kind === "str") entries.set(key.value, value);
      else others.add(describe(key));
      this.skip();
      if (this.s[this.pos] === ",") this.pos++;
      else if (this.s[this.pos] !== "}") this.fail("expected ',' or '}'");
    }
    this.pos++;
    return { kind: "dict", entries, otherKeys: others.size };
  }
}

function describe(v: PyValue): string {
  switch (v.kind) {
    case "str":
      return `'${v.value}'`;
    case "int":
    case "bool":
      return String(v.value);
    case "none":
      return "None";
    default:
      return v.kind;
  }
}

/**
 * Parse a decoded `.npy` header and check it as NumPy does: a dict with exactly the keys `descr`,
 * `fortran_order` and `shape`; `shape` a tuple of non-negative ints; `fortran_order` a bool.
 * `allowLongSuffix` accepts Python 2's `3L` (format versions 1.0 and 2.0, as NumPy does).
 */
export function parseNpyHeader(text: string, allowLongSuffix: boolean): NpyHeader {
  const r = new LiteralReader(text, allowLongSuffix);
  const v = r.value(0);
  if (!r.atEnd()) r.fail("text after the header dict");
  const clip = (s: string) => (s.length > 120 ? `${s.slice(0, 120)}…` : s);
  const need = ["descr", "fortran_order", "shape"];
  if (
    v.kind !== "dict" ||
    v.otherKeys > 0 ||
    v.entries.size !== need.length ||
    !need.every((k) => v.entries.has(k))
  ) {
    const keys = v.kind === "dict" ? [...v.entries.keys()].map((k) => `'${clip(k)}'`).join(", ") : "";
    throw new FormatError(
      "npy",
      `header is not a dict with descr, fortran_order and shape (and no other keys): ${v.kind === "dict" ? `keys ${keys || "none"}${v.otherKeys ? ` and ${v.otherKeys} non-string` : ""}` : `a ${v.kind}`}`,
    );
  }
  const descr = v.entries.get("descr")!;
  const fortran = v.entries.get("fortran_order")!;
  const shape = v.entries.get("shape")!;
  if (fortran.kind !== "bool") {
    throw new FormatError("npy", `fortran_order must be True or False, got ${describe(fortran)}`);
  }
  if (shape.kind !== "tuple") {
    throw new FormatError("npy", `shape must be a tuple of integers such as (2, 3), got ${describe(shape)}`);
  }
  const dims = shape.items.map((d) => {
    if (d.kind !== "int" || d.value < 0n || d.value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new FormatError(
        "npy",
        `bad dimension '${clip(describe(d))}' in shape: each must be an integer in 0..2^53-1`,
      );
    }
    return Number(d.value);
  });
  if (descr.kind !== "str") {
    throw new FormatError(
      "npy",
      `dtype ${describe(descr)} is not supported (structured dtypes are not); save a plain numeric array`,
    );
  }
  return { descr: descr.value, fortranOrder: fortran.value, shape: dims };
}
