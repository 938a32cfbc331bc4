/**
 * `QLoRA` (Dettmers et al. 2023): the named composition NF4[dq=true] + LoRA: frozen 4-bit NormalFloat
 * base weights with double-quantised scales, trainable low-rank adapters on top.
 */
import type { NamedComposition } from "@tradeoffs/core-tensor";
import { lora } from "./lora.js";
import { nf4 } from "./nf4.js";

/** `QLoRA`: the named composition NF4[dq=true] + LoRA (frozen 4-bit base weights, trainable adapters). */
export const qlora: NamedComposition = Object.freeze({
  name: "QLoRA",
  description: "NF4[dq=true] frozen weights + LoRA adapters (QLoRA)",
  expand: () => [nf4({ dq: true }), lora()],
});
