/**
 * The checks every paging cache applies: appended K/V both [batch, kvHeads, T, D], and a window
 * that fits a rolling buffer. Helpers only; the contracts themselves are core's `KvCache` and
 * `SequenceCache`.
 */
import { type AttendOptions, ShapeError, type Tensor, ValueError } from "@tradeoffs/core-tensor";

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

/**
 * Throw a `ValueError` from `op` unless `tq` queries over `tk` positions, of which a rolling buffer
 * keeps the last `held`, see only held keys: no check until the buffer has wrapped, then the first
 * query's window (window + tq − 1 positions back from the end) must fit in `held`.
 */
export function checkRingWindow(
  op: string,
  seqId: number,
  tk: number,
  held: number,
  tq: number,
  options: AttendOptions,
): void {
  if (tk <= held) return;
  if (options.window !== undefined && options.window + tq - 1 <= held) return;
  throw new ValueError(
    `${op}: sequence ${seqId} keeps its last ${held} of ${tk} positions, so ${tq} quer${tq === 1 ? "y needs" : "ies need"} window ≤ ${held - tq + 1}, got ${options.window ?? "none (full attention)"}; attend with the cache's window`,
    { seqId, window: options.window, held },
  );
}
