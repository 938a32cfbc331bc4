/** The strategies of this package by the names users type (a typed const map). */
import { fp32 } from "./fp32.js";
import { fp32x8 } from "./fp32x8.js";
import { bf16, fp16 } from "./half.js";
import { int4 } from "./int4.js";
import { int8 } from "./int8.js";
import { llmInt8 } from "./llm-int8.js";
import { lora } from "./lora.js";
import { nf4 } from "./nf4.js";
import { q4_0 } from "./q4-0.js";
import { q8_0 } from "./q8-0.js";
import { qlora } from "./qlora.js";

/** The `weights` and `adapters` strategies of this package by the names configurations use. */
export const quantStrategies = {
  FP32: fp32,
  FP32x8: fp32x8,
  FP16: fp16,
  BF16: bf16,
  INT8: int8,
  LLMInt8: llmInt8,
  INT4: int4,
  NF4: nf4,
  Q8_0: q8_0,
  Q4_0: q4_0,
  LoRA: lora,
  QLoRA: qlora,
} as const;
