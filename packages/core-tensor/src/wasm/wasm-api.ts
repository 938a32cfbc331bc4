/**
 * Types for the slice of the WebAssembly JavaScript API this backend uses. The project's ES2022 lib
 * (no DOM) declares no `WebAssembly` global, so it is read from `globalThis` through these types.
 */

/** A compiled module (opaque here). */
export interface WasmModule {
  /** Brand only: keeps other objects from passing as a compiled module. */
  readonly __wasmModule?: never;
}

/** A linear memory; `buffer` is a SharedArrayBuffer when created with `shared: true`. */
export interface WasmMemory {
  /** The memory's bytes (replaced by a new buffer after each growth). */
  readonly buffer: ArrayBufferLike;
  /** Grows by `pages` 64 KiB pages; returns the previous size in pages. */
  grow(pages: number): number;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: Record<string, unknown> };
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  validate(bytes: Uint8Array): boolean;
}

/** The runtime's WebAssembly namespace, or undefined where there is none. */
export const webAssembly: WasmApi | undefined = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
