/**
 * The rule every head layout obeys: K/V heads must divide the query heads (each K/V head serves a
 * group of heads/kvHeads consecutive query heads). Shared by `GQA` and `meanPoolKvHeads`; no strategy here.
 */

/** Divisors of `heads` in ascending order: the valid K/V head counts. */
export function validKvHeads(heads: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= heads; d++) if (heads % d === 0) out.push(d);
  return out;
}

/** Problems with `kvHeads` for a model with `heads` query heads (`heads` unknown: sign check only). */
export function kvHeadsProblems(owner: string, kvHeads: number, heads?: number): string[] {
  const valid = heads !== undefined ? `; valid for ${heads} heads: ${validKvHeads(heads).join(", ")}` : "";
  if (!(Number.isInteger(kvHeads) && kvHeads >= 1)) {
    return [`${owner}: kvHeads must be a positive integer dividing the query heads, got ${kvHeads}${valid}`];
  }
  if (heads !== undefined && heads % kvHeads !== 0) {
    return [`${owner}: kvHeads=${kvHeads} does not divide the ${heads} query heads${valid}`];
  }
  return [];
}
