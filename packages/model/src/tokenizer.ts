/**
 * Byte-level tokenizer: UTF-8 bytes are the tokens (vocabulary 256). No merges, no unknowns.
 */
export const byteTokenizer = {
  vocab: 256,
  encode(text: string): Uint8Array {
    return new TextEncoder().encode(text);
  },
  decode(ids: ArrayLike<number>): string {
    return new TextDecoder("utf-8", { fatal: false }).decode(Uint8Array.from(ids as ArrayLike<number>));
  },
} as const;
