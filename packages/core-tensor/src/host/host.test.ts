import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../errors.js";
import { host as browser } from "./browser.js";
import { host as node } from "./node.js";

const dir = mkdtempSync(join(tmpdir(), "tradeoffs-host-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the Node host", () => {
  it("writes atomically and reads whole files and ranges", () => {
    const path = join(dir, "bytes.bin");
    node.writeFileAtomic(path, Uint8Array.from([1, 2, 3, 4, 5]));
    expect([...node.readFile(path)]).toEqual([1, 2, 3, 4, 5]);
    const f = node.openFile(path);
    try {
      expect(f.size).toBe(5);
      expect([...f.read(1, 3)]).toEqual([2, 3, 4]);
      expect([...f.read(3, 10)]).toEqual([4, 5]); // short at the end of the file
    } finally {
      f.close();
    }
  });

  it("reads the kernels from a file: URL like a browser fetches them", async () => {
    const path = join(dir, "k.wasm");
    writeFileSync(path, Uint8Array.from([0, 97, 115, 109]));
    const bytes = await node.fetchWasmBytes("simd", new URL(`file://${path}`));
    expect([...bytes]).toEqual([...readFileSync(path)]);
    expect(node.helpersAllowed()).toBe(true);
  });
});

describe("the browser host (no file system)", () => {
  it("names the bytes-based function to use instead of each path-based one", () => {
    expect(() => browser.readFile("w.safetensors")).toThrow(ConfigError);
    expect(() => browser.readFile("w.safetensors")).toThrow(/'w\.safetensors'.*readSafetensors/);
    expect(() => browser.writeFileAtomic("out.gguf", "x")).toThrow(/writeGguf/);
    expect(() => browser.openFile("m.gguf")).toThrow(/parseGgufHeader/);
    expect(() => browser.wasmBytes("simd")).toThrow(/await loadWasm\(\)/);
  });

  it("allows helpers only in an isolated worker (never here: not cross-origin isolated)", () => {
    expect(browser.helpersAllowed()).toBe(false);
  });
});
