/**
 * Typed errors of the paging package. `PoolExhaustedError`: a KV block pool (device or host) has no
 * free block left; `RequestTooLargeError`: a request can never fit the KV budget, even alone.
 * Both carry the numbers involved and end with what to do next.
 */
import { formatBytes, TradeoffsError } from "@tradeoffs/core-tensor";

/** No free (or evictable) block is left in a pool. */
export class PoolExhaustedError extends TradeoffsError {
  /** Blocks asked for. */
  readonly requested: number;
  /** Blocks free at the time. */
  readonly free: number;
  /** Blocks in the pool. */
  readonly capacity: number;
  constructor(args: { pool: string; requested: number; free: number; capacity: number; blockBytes: number }) {
    super(
      "E_POOL_EXHAUSTED",
      `${args.pool}: need ${args.requested} more KV block(s) but ${args.free} of ${args.capacity} are free (${formatBytes(args.blockBytes)} each); free or preempt sequences, or raise the KV budget`,
      { ...args },
    );
    this.requested = args.requested;
    this.free = args.free;
    this.capacity = args.capacity;
  }
}

/** A request whose KV footprint exceeds the whole budget: waiting would never help. */
export class RequestTooLargeError extends TradeoffsError {
  constructor(args: { request: number; tokens: number; capacityTokens: number; what: string }) {
    super(
      "E_REQUEST_TOO_LARGE",
      `request ${args.request}: ${args.tokens} tokens of KV (${args.what}) exceed the KV budget of ${args.capacityTokens} tokens; raise the KV budget or shorten the request`,
      { ...args },
    );
  }
}
