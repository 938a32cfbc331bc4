/**
 * Structural comparison of plans (or any values that mix data and functions), for the purity check.
 * Data is walked field by field; two functions are equal when identical, and otherwise when calling
 * both with the same probe arguments (none for arity 0) gives structurally equal results or errors.
 * Not a general deep-equal: it is written for plan-shaped values (plain objects, arrays, functions).
 */

/**
 * Argument lists a function field is called with (cut to its arity): a count first (layers, tokens;
 * kept small, since a hook may search over it), then sizes in bytes or elements.
 */
const PROBE_LISTS: readonly (readonly number[])[] = [
  [1, 1, 1, 1],
  [2, 7, 64, 1000],
  [7, 1 << 16, 1 << 12, 0],
  [16, 1 << 20, 1 << 16, 1 << 10],
];

/**
 * An object whose every property reads as a number derived from the property name and `seed`, so a
 * hook taking a shape object (`{ batch, heads, tq, … }`) can be probed without knowing its fields.
 */
function probeObject(seed: number): object {
  return new Proxy(
    {},
    {
      get: (_t, key) => {
        if (typeof key !== "string") return undefined;
        let h = seed;
        for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) % 97;
        return 1 + h;
      },
    },
  );
}

/** The argument lists a function of `arity` is probed with: all-numbers, then all-shape-objects. */
function probeArgs(arity: number): unknown[][] {
  if (arity === 0) return [[]];
  const lists: unknown[][] = PROBE_LISTS.map((l) =>
    Array.from({ length: arity }, (_, a) => l[a] ?? l[l.length - 1]),
  );
  lists.push(Array.from({ length: arity }, (_, a) => probeObject(a + 1)));
  return lists;
}

type Outcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: string };

function call(f: (...args: unknown[]) => unknown, args: unknown[]): Outcome {
  try {
    return { ok: true, value: f(...args) };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

/**
 * Every place where `a` and `b` differ, as `path: why` strings (empty when they are structurally
 * equal). `depth` bounds how far results of probed functions are followed.
 */
export function structuralDifferences(a: unknown, b: unknown, path = "plan", depth = 3): string[] {
  if (Object.is(a, b)) return [];
  if (typeof a !== typeof b) return [`${path}: ${typeof a} vs ${typeof b}`];
  if (typeof a === "function") {
    const fa = a as (...args: unknown[]) => unknown;
    const fb = b as (...args: unknown[]) => unknown;
    if (fa.length !== fb.length) return [`${path}: function of ${fa.length} vs ${fb.length} arguments`];
    if (depth <= 0) return [];
    const out: string[] = [];
    for (const args of probeArgs(fa.length)) {
      const ra = call(fa, args);
      const rb = call(fb, args);
      const at = `${path}(${args.map((x) => (typeof x === "number" ? x : "{…}")).join(", ")})`;
      if (ra.ok !== rb.ok)
        out.push(`${at}: ${ra.ok ? "returned" : "threw"} vs ${rb.ok ? "returned" : "threw"}`);
      else if (!ra.ok && !rb.ok) {
        if (ra.error !== rb.error) out.push(`${at}: threw '${ra.error}' vs '${rb.error}'`);
      } else if (ra.ok && rb.ok) out.push(...structuralDifferences(ra.value, rb.value, at, depth - 1));
    }
    return out;
  }
  if (typeof a !== "object" || a === null || b === null) return [`${path}: ${String(a)} vs ${String(b)}`];
  if (Array.isArray(a) !== Array.isArray(b)) return [`${path}: array vs non-array`];
  const ka = Object.keys(a as object).sort();
  const kb = Object.keys(b as object).sort();
  const out: string[] = [];
  for (const k of new Set([...ka, ...kb])) {
    const va = (a as Record<string, unknown>)[k];
    const vb = (b as Record<string, unknown>)[k];
    if (!(k in (a as object))) out.push(`${path}.${k}: missing vs present`);
    else if (!(k in (b as object))) out.push(`${path}.${k}: present vs missing`);
    else out.push(...structuralDifferences(va, vb, `${path}.${k}`, depth));
  }
  return out;
}

/** Freeze `v` and everything reachable from it (functions' own properties excepted). */
export function deepFreeze<T>(v: T, seen: Set<object> = new Set()): T {
  if (v && typeof v === "object" && !seen.has(v)) {
    seen.add(v);
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x, seen);
  }
  return v;
}

/**
 * A copy of `v` that keeps every function reference: the snapshot to compare the input plan against
 * after `plan()` ran (the input must be unchanged, functions included).
 */
export function snapshot<T>(v: T): T {
  if (Array.isArray(v)) return v.map((x) => snapshot(x)) as T;
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = snapshot(x);
    return out as T;
  }
  return v;
}
