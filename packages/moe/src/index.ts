/**
 * @tradeoffs/moe: the `ffn` slot. `Dense` is Llama's SwiGLU block; `MoE[experts,topK,capacity]` is a
 * mixture of SwiGLU experts with top-k routing, capacity, load-balancing and z-losses, shared experts
 * and sparse upcycling from a dense block.
 *
 * @packageDocumentation
 */
export { loadBalancingLoss, logsumexp, routerZLoss } from "./aux-loss.js";
export { dense, makeLinear, SwiGlu } from "./dense.js";
export { coefficientOfVariation, type Dispatch, dispatchTokens, expertCapacity } from "./dispatch.js";
export {
  MoeFfn,
  type MoeOptions,
  type MoeParts,
  type MoeStats,
  moe,
  moeProblems,
  ROUTER_INIT_STD,
} from "./moe.js";
export { moeForwardNaive } from "./moe-naive.js";
export { type MoeParamCounts, moeParamCounts } from "./params.js";
export { moeStrategies } from "./registry.js";
export { type Routing, routeTopK, takeAlong } from "./router.js";
export { UPCYCLE_ROUTER_STD, upcycleDense } from "./upcycle.js";
