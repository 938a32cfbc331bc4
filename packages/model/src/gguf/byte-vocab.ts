/**
 * The tokenizer section of a GGUF file for our byte vocabulary (token id = byte value), written as a
 * byte-level BPE ("gpt2" model, no merges, "default" pre-tokenizer) so llama.cpp tokenizes any text
 * into exactly its UTF-8 bytes and detokenizes them back. Not here: any other vocabulary.
 * Why not the "llama" (SentencePiece) model with <0xXX> byte tokens: it rewrites spaces as U+2581
 * before byte fallback, so " " would become three tokens. Sources: llama.cpp src/llama-vocab.cpp
 * (gpt2 loading, default special ids), GPT-2's `bytes_to_unicode` (openai/gpt-2 encoder.py).
 */
import type { GgufValue } from "@tradeoffs/core-tensor";

/** GPT-2's printable stand-in for each byte: printable Latin-1 bytes map to themselves, the rest to 256+n. */
export function byteToUnicode(): string[] {
  const keep = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCodePoint(keep(b) ? b : 256 + n++));
  return out;
}

/** `tokenizer.ggml.*` entries for a byte vocabulary of `vocab` (256) tokens. */
export function byteVocabMetadata(vocab: number): [string, GgufValue][] {
  const tokens = byteToUnicode().slice(0, vocab);
  return [
    ["tokenizer.ggml.model", { type: "string", value: "gpt2" }],
    ["tokenizer.ggml.pre", { type: "string", value: "default" }],
    ["tokenizer.ggml.tokens", { type: "array", itemType: "string", value: tokens }],
    ["tokenizer.ggml.token_type", { type: "array", itemType: "i32", value: tokens.map(() => 1) }], // NORMAL
    ["tokenizer.ggml.merges", { type: "array", itemType: "string", value: [] }],
    // No BOS/EOS in a byte model: NUL (never in text) stands in, and nothing is added to prompts.
    ["tokenizer.ggml.bos_token_id", { type: "u32", value: 0 }],
    ["tokenizer.ggml.eos_token_id", { type: "u32", value: 0 }],
    ["tokenizer.ggml.add_bos_token", { type: "bool", value: false }],
    ["tokenizer.ggml.add_eos_token", { type: "bool", value: false }],
  ];
}
