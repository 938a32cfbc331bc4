/**
 * Reverse-mode autograd. Ops record a `GradNode` (inputs, tensors saved for backward, a backward
 * closure) when grad mode is on and an input requires grad. Saved tensors are charged to the ledger
 * under `act` while the graph holds them, so training memory is measurable. `checkpoint()` is the hook
 * gradient checkpointing builds on: run a function without saving its intermediates, re-run it in
 * backward to rebuild them.
 */
import { ShapeError, TradeoffsError } from "./errors.js";
import { rootCategory } from "./ledger.js";
import { alias, clone, full, keep, scope, type Tensor } from "./tensor.js";

/** One recorded op. `backward` gets the output gradient and returns one gradient (or null) per input. */
export interface GradNode {
  /** Operation name, for error messages and graph dumps (`matmul`, `softmax`, …). */
  readonly name: string;
  /** The tensors the operation read, in argument order; their gradients come back in the same order. */
  readonly inputs: readonly Tensor[];
  /** Handles retained for backward (released after the first backward unless `retainGraph`). */
  readonly saved: readonly Tensor[];
  /** Gradients of the inputs given the output gradient (`null` for an input that needs none). */
  readonly backward: (grad: Tensor, saved: readonly Tensor[]) => readonly (Tensor | null)[];
  /**
   * True once the saved tensors have been released (backward without `retainGraph`, or no references left).
   */
  released: boolean;
  /** Live references: the output handle plus every downstream node that consumes the output. */
  refs: number;
  /**
   * Drop one reference; at zero the saved tensors are released and the drop propagates upstream.
   * This is how a graph that never sees backward (a forward in grad mode, then dispose) frees its
   * activations deterministically.
   */
  drop(): void;
}

let gradEnabled = true;

/** Whether operations are being recorded for autograd now (false inside `noGrad`). */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Run `fn` without recording autograd nodes (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Run `fn` with recording on (used inside backward to recompute a checkpointed segment). */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Retain `t` for backward; its bytes move from `tmp` to `act` while any node holds them. */
function save(t: Tensor): Tensor {
  const st = t.storage;
  if (st.savedBy === 0 && rootCategory(st.category) === "tmp") {
    const before = st.category;
    st.recategorize("act"); // may throw OutOfMemoryError under an `act` budget: nothing changed yet
    st.categoryBeforeSave = before;
  }
  st.savedBy++;
  return keep(alias(t));
}

/** Save all or nothing: on an error (an `act` budget), release what was already saved. */
function saveAll(ts: readonly Tensor[]): Tensor[] {
  const done: Tensor[] = [];
  try {
    for (const t of ts) done.push(save(t));
  } catch (e) {
    for (const h of done) unsave(h);
    throw e;
  }
  return done;
}

function unsave(h: Tensor): void {
  const st = h.storage;
  st.savedBy--;
  if (st.savedBy === 0 && st.categoryBeforeSave !== null && st.refs > 1) {
    st.recategorize(st.categoryBeforeSave);
    st.categoryBeforeSave = null;
  }
  h.dispose();
}

/**
 * Record `out` as produced by an op with `inputs`, saving `saved` for the backward closure.
 * No-op when grad mode is off or no input requires grad (unless `force`).
 */
export function record(
  out: Tensor,
  name: string,
  inputs: readonly Tensor[],
  saved: readonly Tensor[],
  backward: GradNode["backward"],
  force = false,
): Tensor {
  if (!gradEnabled || !(force || inputs.some((t) => t.requiresGrad))) return out;
  let savedHandles: Tensor[];
  try {
    savedHandles = saveAll(saved);
  } catch (e) {
    out.dispose(); // the op's output never reaches the caller
    throw e;
  }
  out.requiresGrad = true;
  for (const i of inputs) if (i.gradFn) i.gradFn.refs++;
  const node: GradNode = {
    name,
    inputs,
    saved: savedHandles,
    backward,
    released: false,
    refs: 1,
    drop: () => dropNode(node),
  };
  out.gradFn = node;
  return out;
}

function dropNode(start: GradNode): void {
  const stack = [start];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (--n.refs > 0) continue;
    if (!n.released) {
      n.released = true;
      for (const s of n.saved) unsave(s);
    }
    for (const i of n.inputs) if (i.gradFn) stack.push(i.gradFn);
  }
}

/** Release everything the graph behind `t` saved, without running backward. */
export function releaseGraph(t: Tensor): void {
  for (const n of topoOrder(t)) {
    const node = n.gradFn;
    if (node && !node.released) {
      node.released = true;
      for (const s of node.saved) unsave(s);
    }
  }
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const inputs = t.gradFn?.inputs ?? [];
    if (i < inputs.length) {
      top[1] = i + 1;
      const next = inputs[i]!;
      if (next.requiresGrad && !seen.has(next)) {
        seen.add(next);
        stack.push([next, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order; // inputs before the tensors that use them
}

/** Options of `backward()`. */
export interface BackwardOptions {
  /** Output gradient; default 1 for a one-element tensor. */
  readonly grad?: Tensor;
  /** Keep saved tensors so backward can run again. */
  readonly retainGraph?: boolean;
}

function accumulateInto(target: Tensor, g: Tensor): void {
  const a = target.data;
  const b = g.data;
  for (let i = 0; i < a.length; i++) a[i] = a[i]! + b[i]!;
}

/**
 * `g` as a gradient this pass may write into: backward closures may return views of their output
 * gradient (`add`, `reshape`), so a gradient whose storage has other handles is copied before it is
 * accumulated into or handed to a leaf (copy-on-write).
 */
function owned(g: Tensor, category = "tmp"): Tensor {
  if (g.storage.refs === 1) return g;
  const c = clone(g, { category });
  g.dispose();
  return c;
}

function runBackward(
  root: Tensor,
  options: BackwardOptions,
  capture: ReadonlySet<Tensor> | null,
): Map<Tensor, Tensor> {
  if (!root.requiresGrad) {
    throw new TradeoffsError(
      "E_NO_GRAD",
      `backward: ${root.describe()} does not require grad; build it from tensors with requiresGrad outside noGrad()`,
    );
  }
  let seed: Tensor;
  if (options.grad) {
    if (options.grad.shape.join() !== root.shape.join()) {
      throw new ShapeError(
        "backward",
        `grad shape [${options.grad.shape}] differs from output [${root.shape}]`,
      );
    }
    seed = clone(options.grad, { category: "tmp" });
  } else {
    if (root.size !== 1) {
      throw new ShapeError(
        "backward",
        `implicit grad needs a one-element output, got [${root.shape}]; pass { grad }`,
      );
    }
    seed = full(root.shape, 1);
  }
  const order = topoOrder(root);
  const grads = new Map<Tensor, Tensor>([[root, seed]]);
  const captured = new Map<Tensor, Tensor>();
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    for (let idx = order.length - 1; idx >= 0; idx--) {
      const t = order[idx]!;
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      if (capture?.has(t)) {
        captured.set(t, keep(owned(g)));
        continue;
      }
      const node = t.gradFn;
      if (!node) {
        // A leaf: accumulate into .grad, charged to `grad`.
        if (t.grad === null || t.grad.disposed) {
          const own = owned(g, "grad");
          own.storage.recategorize("grad");
          t.grad = keep(own);
        } else {
          accumulateInto(t.grad, g);
          g.dispose();
        }
        continue;
      }
      if (node.released) {
        throw new TradeoffsError(
          "E_GRAPH_RELEASED",
          `backward: the graph through '${node.name}' was already released; pass { retainGraph: true } to the first backward`,
        );
      }
      let gs: readonly (Tensor | null)[];
      try {
        // In a scope: a backward that throws half-way (out of memory) frees what it had made.
        gs = scope(() => node.backward(g, node.saved));
      } catch (e) {
        g.dispose();
        throw e;
      }
      if (!options.retainGraph) {
        node.released = true;
        for (const s of node.saved) unsave(s);
      }
      const fresh = new Set<Tensor>();
      for (let i = 0; i < node.inputs.length; i++) {
        const input = node.inputs[i]!;
        let gi = gs[i] ?? null;
        if (gi === null) continue;
        if (!input.requiresGrad) {
          if (gi !== g) gi.dispose();
          continue;
        }
        if (gi === g || fresh.has(gi)) gi = clone(gi, { category: "tmp" });
        fresh.add(gi);
        if (gi.shape.join() !== input.shape.join()) {
          throw new ShapeError(
            `backward of ${node.name}`,
            `gradient shape [${gi.shape}] differs from input [${input.shape}]`,
          );
        }
        const existing = grads.get(input);
        if (existing) {
          const own = owned(existing);
          accumulateInto(own, gi);
          gi.dispose();
          grads.set(input, own);
        } else grads.set(input, gi);
      }
      if (!fresh.has(g)) g.dispose();
    }
  } finally {
    gradEnabled = prev;
    for (const g of grads.values()) g.dispose();
  }
  return captured;
}

/**
 * Backpropagate from `root` (a scalar loss, or any tensor with `{ grad }`), accumulating into the
 * `.grad` of every leaf that requires grad, and releasing the saved tensors.
 */
export function backward(root: Tensor, options: BackwardOptions = {}): void {
  runBackward(root, options, null);
}

/**
 * Gradients of `root` with respect to `inputs` (returned, not accumulated into `.grad`; `null` for an
 * input the output does not depend on). Leaves not in `inputs` still accumulate into `.grad`.
 */
export function grad(
  root: Tensor,
  inputs: readonly Tensor[],
  options: BackwardOptions = {},
): (Tensor | null)[] {
  const captured = runBackward(root, options, new Set(inputs));
  return inputs.map((t) => captured.get(t) ?? null);
}

/** A handle on the same storage with no history; `requiresGrad` as given. */
export function detach(t: Tensor, requiresGrad = false): Tensor {
  const d = alias(t);
  d.requiresGrad = requiresGrad;
  return d;
}

/**
 * Gradient checkpointing hook: run `fn(...inputs)` saving only `inputs` (no intermediates); during
 * backward, re-run `fn` with recording on and backpropagate through the recomputed graph. Parameters
 * that `fn` closes over receive their gradients as usual. `fn` must be deterministic.
 */
export function checkpoint(fn: (...inputs: Tensor[]) => Tensor, inputs: readonly Tensor[]): Tensor {
  if (!gradEnabled) return fn(...inputs);
  const out = noGrad(() => scope(() => fn(...inputs)));
  return record(
    out,
    "checkpoint",
    inputs,
    inputs,
    (g, saved) => {
      const detached = saved.map((s, i) => keep(detach(s, inputs[i]!.requiresGrad)));
      try {
        const wanted = detached.filter((d) => d.requiresGrad);
        const gs = enableGrad(() => {
          const y = scope(() => fn(...detached));
          if (!y.requiresGrad) {
            y.dispose();
            return wanted.map(() => null);
          }
          const r = grad(y, wanted, { grad: g });
          y.dispose();
          return r;
        });
        let w = 0;
        return detached.map((d) => (d.requiresGrad ? (gs[w++] ?? null) : null));
      } finally {
        for (const d of detached) d.dispose();
      }
    },
    true,
  );
}
