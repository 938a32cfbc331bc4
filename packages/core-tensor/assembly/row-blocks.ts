// The rows of W a GEMV thread computes (AssemblyScript): its fixed share [j0, j1) (static split), or
// blocks of |chunk| consecutive rows taken from an atomic counter (dynamic split), so a thread that
// starts late or is descheduled does fewer blocks instead of the other waiting for its half.
// A thread with chunk > 0 takes blocks from the front of [j0, j1), one with chunk < 0 from the back:
// two threads then start half the rows apart and meet where they meet, instead of streaming
// neighbouring blocks of W side by side (measured: see src/wasm/matmul.ts, `splitArgs`). The
// counter word holds both: blocks taken from the front in its low 16 bits, from the back in its high
// 16, so one atomic add hands out a block and checks that the two ends have not met.
// Not here: the kernels (gemv*.ts) and the block sizes (src/wasm/matmul.ts, which keep a split under
// MAX_SPLIT_BLOCKS blocks).
//
// Loop shape in every kernel:
//   for (let a = nextRows(c, chunk, j0, j1, -1); a < j1; a = nextRows(c, chunk, j0, j1, a))
//     rows(a, rowsEnd(c, chunk, j1, a));

/**
 * First row of this thread's next block, or ≥ j1 when none is left; `prev` is −1 on the first call.
 * `counter` = 0: the static split (one block, [j0, j1)). Otherwise the byte address of an i32 the
 * caller zeroed, shared by every thread of the call, all handed the same [j0, j1) and |chunk| (few
 * enough blocks that each end's count, draws past the end included, stays below 2^16: the callers
 * keep 2^14); chunk > 0 takes blocks from the front, chunk < 0 from the back.
 */
export function nextRows(counter: usize, chunk: i32, j0: i32, j1: i32, prev: i32): i32 {
  if (counter === 0 || chunk === 0) return prev < 0 ? j0 : j1;
  const size = abs(chunk);
  const blocks = (j1 - j0 + size - 1) / size;
  const taken = <u32>atomic.add<i32>(counter, chunk > 0 ? 1 : 0x10000);
  const front = <i32>(taken & 0xffff);
  const back = <i32>(taken >>> 16);
  if (front + back >= blocks) return j1;
  return j0 + (chunk > 0 ? front : blocks - 1 - back) * size;
}

/** One past the last row of the block that starts at `a` (see `nextRows`). */
export function rowsEnd(counter: usize, chunk: i32, j1: i32, a: i32): i32 {
  return counter === 0 || chunk === 0 ? j1 : min(a + abs(chunk), j1);
}
