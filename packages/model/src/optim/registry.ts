/**
 * The optimizers by the names users type (`--optim adamw|adamw8bit|adafactor|sgd|lion`): how to make
 * each, its state bytes per parameter shape (what the estimator sums) and its default learning rate.
 * Not here: the update rules (one file each) or bf16 parameters (master-weights.ts).
 */
import { closestMatch, type Tensor, ValueError } from "@tradeoffs/core-tensor";
import { Adafactor, type AdafactorOptions } from "./adafactor.js";
import { AdamW, type AdamWOptions } from "./adamw.js";
import { AdamW8bit, type AdamW8bitOptions } from "./adamw8bit.js";
import { Lion, type LionOptions } from "./lion.js";
import type { Optimizer } from "./optimizer.js";
import { Sgd, type SgdOptions } from "./sgd.js";

/** The optimizer names users type, in the order help texts list them. */
export const OPTIMIZER_NAMES = ["adamw", "adamw8bit", "adafactor", "sgd", "lion"] as const;
/** One of `OPTIMIZER_NAMES`. */
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** An optimizer and its options, e.g. `{ name: "sgd", momentum: 0.9, lr: 0.01 }`. */
export type OptimizerChoice =
  | ({ readonly name: "adamw" } & AdamWOptions)
  | ({ readonly name: "adamw8bit" } & AdamW8bitOptions)
  | ({ readonly name: "adafactor" } & AdafactorOptions)
  | ({ readonly name: "sgd" } & SgdOptions)
  | ({ readonly name: "lion" } & LionOptions);

/** One registry entry: how to make an optimizer and what its state costs. */
export interface OptimizerEntry {
  /** One line for help texts. */
  readonly description: string;
  /** Learning rate when none is given (Lion's is 10× below AdamW's, SGD's 10× above). */
  readonly defaultLr: number;
  /** Make the optimizer over `params`. */
  create(params: readonly Tensor[], choice: OptimizerChoice): Optimizer;
  /** Ledger bytes of `optim` state for one parameter of `shape`. */
  stateBytes(shape: readonly number[], choice: OptimizerChoice): number;
}

/** Every optimizer by name. */
export const OPTIMIZERS: Readonly<Record<OptimizerName, OptimizerEntry>> = {
  adamw: {
    description: "AdamW: f32 m and v (8 B/param)",
    defaultLr: 1e-3,
    create: (params, c) => new AdamW(params, c),
    stateBytes: (shape) => AdamW.stateBytes(shape),
  },
  adamw8bit: {
    description: "8-bit AdamW: blockwise-quantised m and v (2 B/param + scales per 2048)",
    defaultLr: 1e-3,
    create: (params, c) => new AdamW8bit(params, c),
    stateBytes: (shape) => AdamW8bit.stateBytes(shape),
  },
  adafactor: {
    description: "Adafactor: factored second moment (rows + cols per matrix), no first moment",
    defaultLr: 1e-3,
    create: (params, c) => new Adafactor(params, c),
    stateBytes: (shape, c) => Adafactor.stateBytes(shape, c),
  },
  sgd: {
    description: "SGD with momentum: one f32 buffer (4 B/param)",
    defaultLr: 1e-2,
    create: (params, c) => new Sgd(params, c),
    stateBytes: (shape, c) => Sgd.stateBytes(shape, c),
  },
  lion: {
    description: "Lion: sign update, one f32 moment (4 B/param)",
    defaultLr: 1e-4,
    create: (params, c) => new Lion(params, c),
    stateBytes: (shape) => Lion.stateBytes(shape),
  },
};

/** `text` as an optimizer name, or a ValueError naming the valid ones (and the closest). */
export function parseOptimizerName(text: string): OptimizerName {
  const t = text.trim().toLowerCase();
  if ((OPTIMIZER_NAMES as readonly string[]).includes(t)) return t as OptimizerName;
  const near = closestMatch(t, OPTIMIZER_NAMES);
  throw new ValueError(
    `unknown optimizer '${text}'${near ? `; did you mean '${near}'?` : ""} (optimizers: ${OPTIMIZER_NAMES.join(", ")})`,
    { optimizer: text, optimizers: OPTIMIZER_NAMES },
  );
}

/** Make the chosen optimizer over `params` (the registry's learning rate when the choice has none). */
export function createOptimizer(params: readonly Tensor[], choice: OptimizerChoice): Optimizer {
  const entry = OPTIMIZERS[choice.name];
  if (!entry) parseOptimizerName(String(choice.name));
  return entry.create(params, { lr: entry.defaultLr, ...choice } as OptimizerChoice);
}

/** `optim` bytes the chosen optimizer holds for parameters of these shapes. */
export function optimizerStateBytes(choice: OptimizerChoice, shapes: readonly (readonly number[])[]): number {
  const entry = OPTIMIZERS[choice.name];
  if (!entry) parseOptimizerName(String(choice.name));
  return shapes.reduce((s, shape) => s + entry.stateBytes(shape, choice), 0);
}
