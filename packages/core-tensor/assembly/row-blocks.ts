// The rows of W a GEMV thread computes (AssemblyScript): its fixed share [j0, j1) (static split), or
// blocks of `chunk` consecutive rows taken in turn from an atomic counter (dynamic split), so a thread
// that starts late or is descheduled does fewer blocks instead of the other waiting for its half.
// Not here: the kernels (gemv*.ts) and the block sizes (src/wasm/matmul.ts).
//
// Loop shape in every kernel:
//   for (let a = nextRows(c, chunk, j0, j1, -1); a < j1; a = nextRows(c, chunk, j0, j1, a))
//     rows(a, rowsEnd(c, chunk, j1, a));

/**
 * First row of this thread's next block, or ≥ j1 when none is left; `prev` is −1 on the first call.
 * `counter` = 0: the static split (one block, [j0, j1)). Otherwise the byte address of an i32 the
 * caller zeroed, shared by every thread of the call, all handed the same [j0, j1) and `chunk`.
 */
export function nextRows(counter: usize, chunk: i32, j0: i32, j1: i32, prev: i32): i32 {
  if (counter === 0 || chunk <= 0) return prev < 0 ? j0 : j1;
  return j0 + atomic.add<i32>(counter, 1) * chunk;
}

/** One past the last row of the block that starts at `a` (see `nextRows`). */
export function rowsEnd(counter: usize, chunk: i32, j1: i32, a: i32): i32 {
  return counter === 0 || chunk <= 0 ? j1 : min(a + chunk, j1);
}
