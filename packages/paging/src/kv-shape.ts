/**
 * The shape check every paging cache applies to appended K/V: k and v both [batch, kvHeads, T, D].
 * A helper only; the cache contracts themselves are core's `KvCache` and `SequenceCache`.
 */
import { ShapeError, type Tensor } from "@tradeoffs/core-tensor";

/** Throw a `ShapeError` from `op` unless k and v are both [batch, kvHeads, T, headDim]; returns T. */
export function checkKvShape(
  op: string,
  k: Tensor,
  v: Tensor,
  batch: number,
  kvHeads: number,
  headDim: number,
): number {
  const T = k.rank === 4 ? k.dim(2) : -1;
  const want = [batch, kvHeads, T, headDim].join();
  if (k.shape.join() !== want || v.shape.join() !== want) {
    throw new ShapeError(
      op,
      `k, v must be [${batch}, ${kvHeads}, T, ${headDim}]; got [${k.shape}] and [${v.shape}]`,
    );
  }
  return T;
}
