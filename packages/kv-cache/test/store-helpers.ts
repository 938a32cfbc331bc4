/**
 * Test helpers (not exported from the package, not built): one vector written to and read back from
 * a fresh KV store of any dtype.
 */
import type { KvDtypeExec } from "@tradeoffs/core-tensor";

/** Write `src` as vector `index` of a new `count`-vector store, read it back, free the store. */
export function storeRoundTrip(
  allocate: KvDtypeExec["allocate"],
  src: Float32Array,
  count: number,
  index: number,
): Float32Array {
  const store = allocate(count, src.length, "kv");
  const back = new Float32Array(src.length);
  try {
    store.write(index, src, 0);
    store.read(index, back, 0);
  } finally {
    store.dispose();
  }
  return back;
}
