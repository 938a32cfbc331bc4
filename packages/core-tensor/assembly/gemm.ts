// Blocked f32 GEMM for the WASM backend (AssemblyScript, 128-bit SIMD): BLIS-style loops over packed
// panels around a 4×8 register-tiled micro-kernel (8 f32x4 accumulators). Pointers are byte
// addresses in the shared linear memory; strides are in elements, so transposes cost nothing extra.
// Not here: memory management or threading (the JS side lays out operands and splits columns).

import { nextRows, rowsEnd } from "./row-blocks";

const MR: i32 = 4; // rows of the micro-tile (A panel width)
const NR: i32 = 8; // columns of the micro-tile (B panel width, two f32x4)
const KC: i32 = 256; // depth of a packed block: an A panel (4×256×4 B) and B panel (8×256×4 B) sit in L1
const MC: i32 = 128; // rows of packed A per block (128×256×4 B = 128 KiB, L2)
const NC: i32 = 2048; // columns of packed B per block (≤ 2 MiB)

/** Bytes of packing scratch one `gemm` call needs (A block + B block). */
export function gemmScratchBytes(): i32 {
  return (MC * KC + NC * KC) * 4 + 32 * 4;
}

/** a·b + c, fused when built with relaxed SIMD (`--target relaxed`), else separate mul and add. */
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/**
 * C[m, j0:j1] += A[m, k] · B[k, j0:j1] for one product. A(i, q) = a[i·rsA + q·csA],
 * B(q, j) = b[q·rsB + j·csB], C(i, j) = c[i·ldc + j]. `scratch` holds gemmScratchBytes() bytes.
 */
export function gemm(
  m: i32,
  k: i32,
  j0: i32,
  j1: i32,
  a: usize,
  rsA: i32,
  csA: i32,
  b: usize,
  rsB: i32,
  csB: i32,
  c: usize,
  ldc: i32,
  scratch: usize,
): void {
  if (m <= 2) {
    gemmSmall(m, k, j0, j1, a, rsA, csA, b, rsB, csB, c, ldc);
    return;
  }
  const packA = scratch;
  const packB = scratch + <usize>(MC * KC * 4);
  const tile = packB + <usize>(NC * KC * 4);
  for (let jc = j0; jc < j1; jc += NC) {
    const nc = min(NC, j1 - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      packPanelsB(kc, nc, b + <usize>((pc * rsB + jc * csB) * 4), rsB, csB, packB);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packPanelsA(mc, kc, a + <usize>((ic * rsA + pc * csA) * 4), rsA, csA, packA);
        blockTiles(mc, nc, kc, packA, packB, c + <usize>((ic * ldc + jc) * 4), ldc, tile);
      }
    }
  }
}

/**
 * Bytes of scratch `gemmBlocks` needs for an m×k A and blocks of `chunk` columns: all of A packed
 * (m rounded up to MR rows), one block of B (KC×chunk) and the micro-tile.
 */
export function gemmBlocksScratchBytes(m: i32, k: i32, chunk: i32): i32 {
  return (panelRows(m) * k + KC * chunk + 32) * 4;
}

/** m rounded up to whole MR-row panels (packed A's rows, zero-padded). */
function panelRows(m: i32): i32 {
  return ((m + MR - 1) / MR) * MR;
}

/**
 * C[m, 0:n] += A[m, k] · B[k, 0:n] (operands as in `gemm`), in blocks of |chunk| columns taken
 * from the atomic counter at `counter` (row-blocks.ts: chunk > 0 from the front, < 0 from the back),
 * so a thread that starts late or is descheduled takes fewer blocks instead of the other waiting for
 * its half. Each thread packs all of A once (after it got a block) and B one block at a time: every
 * element of C sums the same products in the same order as `gemm`, bit for bit. `scratch` holds
 * gemmBlocksScratchBytes(m, k, |chunk|) bytes; C is zeroed or holds what to add to.
 */
export function gemmBlocks(
  m: i32,
  k: i32,
  n: i32,
  a: usize,
  rsA: i32,
  csA: i32,
  b: usize,
  rsB: i32,
  csB: i32,
  c: usize,
  ldc: i32,
  scratch: usize,
  counter: usize,
  chunk: i32,
): void {
  let j = nextRows(counter, chunk, 0, n, -1);
  if (j >= n) return;
  const mPad = panelRows(m);
  const packA = scratch;
  const packB = packA + <usize>(mPad * k * 4);
  const tile = packB + <usize>(KC * abs(chunk) * 4);
  // A's panels for every (pc, ic) block: block (pc, ic) at pc·mPad + ic·kc floats.
  for (let pc = 0; pc < k; pc += KC) {
    const kc = min(KC, k - pc);
    for (let ic = 0; ic < m; ic += MC) {
      const at = packA + <usize>((pc * mPad + ic * kc) * 4);
      packPanelsA(min(MC, m - ic), kc, a + <usize>((ic * rsA + pc * csA) * 4), rsA, csA, at);
    }
  }
  for (; j < n; j = nextRows(counter, chunk, 0, n, j)) {
    const nc = rowsEnd(counter, chunk, n, j) - j;
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      packPanelsB(kc, nc, b + <usize>((pc * rsB + j * csB) * 4), rsB, csB, packB);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        const pa = packA + <usize>((pc * mPad + ic * kc) * 4);
        blockTiles(mc, nc, kc, pa, packB, c + <usize>((ic * ldc + j) * 4), ldc, tile);
      }
    }
  }
}

/** Batched `gemm`: products b0..b1-1, operands advanced by their batch strides (0 broadcasts). */
export function gemmBatched(
  b0: i32,
  b1: i32,
  m: i32,
  k: i32,
  j0: i32,
  j1: i32,
  a: usize,
  aBS: i32,
  rsA: i32,
  csA: i32,
  b: usize,
  bBS: i32,
  rsB: i32,
  csB: i32,
  c: usize,
  cBS: i32,
  ldc: i32,
  scratch: usize,
): void {
  for (let t = b0; t < b1; t++) {
    gemm(
      m,
      k,
      j0,
      j1,
      a + <usize>(t * aBS * 4),
      rsA,
      csA,
      b + <usize>(t * bBS * 4),
      rsB,
      csB,
      c + <usize>(t * cBS * 4),
      ldc,
      scratch,
    );
  }
}

/**
 * C(mc×nc at c, row stride ldc) += packed A block (mc×kc, MR-row panels) · packed B block (kc×nc,
 * NR-wide panels), one 4×8 micro-tile at a time.
 */
function blockTiles(mc: i32, nc: i32, kc: i32, pa: usize, pb: usize, c: usize, ldc: i32, tile: usize): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const w = min(NR, nc - jr);
    const b = pb + <usize>(jr * kc * 4);
    for (let ir = 0; ir < mc; ir += MR) {
      const ci = c + <usize>((ir * ldc + jr) * 4);
      kernel4x8(kc, pa + <usize>(ir * kc * 4), b, ci, ldc, min(MR, mc - ir), w, tile);
    }
  }
}

/** Pack B(0:kc, 0:nc) into NR-wide panels: panel p holds kc rows of NR values (zero-padded). */
function packPanelsB(kc: i32, nc: i32, b: usize, rsB: i32, csB: i32, dst: usize): void {
  for (let jp = 0; jp < nc; jp += NR) {
    const w = min(NR, nc - jp);
    const d = dst + <usize>(jp * kc * 4);
    if (csB === 1 && w === NR) {
      let src = b + <usize>(jp * 4);
      const step = <usize>(rsB * 4);
      for (let q = 0; q < kc; q++) {
        v128.store(d + <usize>(q * 32), v128.load(src));
        v128.store(d + <usize>(q * 32), v128.load(src, 16), 16);
        src += step;
      }
    } else {
      for (let q = 0; q < kc; q++) {
        const row = b + <usize>(q * rsB * 4);
        for (let r = 0; r < NR; r++) {
          const v: f32 = r < w ? load<f32>(row + <usize>((jp + r) * csB * 4)) : 0;
          store<f32>(d + <usize>((q * NR + r) * 4), v);
        }
      }
    }
  }
}

/** Pack A(0:mc, 0:kc) into MR-tall panels: panel p holds kc columns of MR values (zero-padded). */
function packPanelsA(mc: i32, kc: i32, a: usize, rsA: i32, csA: i32, dst: usize): void {
  for (let ip = 0; ip < mc; ip += MR) {
    const h = min(MR, mc - ip);
    const d = dst + <usize>(ip * kc * 4);
    if (rsA === 1 && h === MR) {
      // A stored transposed: the MR values of one column are contiguous.
      for (let q = 0; q < kc; q++) {
        v128.store(d + <usize>(q * 16), v128.load(a + <usize>((ip + q * csA) * 4)));
      }
    } else if (h === MR) {
      const r0 = a + <usize>(ip * rsA * 4);
      const r1 = r0 + <usize>(rsA * 4);
      const r2 = r1 + <usize>(rsA * 4);
      const r3 = r2 + <usize>(rsA * 4);
      for (let q = 0; q < kc; q++) {
        const o = <usize>(q * csA * 4);
        const e = d + <usize>(q * 16);
        store<f32>(e, load<f32>(r0 + o));
        store<f32>(e, load<f32>(r1 + o), 4);
        store<f32>(e, load<f32>(r2 + o), 8);
        store<f32>(e, load<f32>(r3 + o), 12);
      }
    } else {
      for (let q = 0; q < kc; q++) {
        for (let r = 0; r < MR; r++) {
          const v: f32 = r < h ? load<f32>(a + <usize>(((ip + r) * rsA + q * csA) * 4)) : 0;
          store<f32>(d + <usize>((q * MR + r) * 4), v);
        }
      }
    }
  }
}

/** C(4×8 at ci, row stride ldc) += packed A panel (kc×4) · packed B panel (kc×8); h×w valid. */
function kernel4x8(kc: i32, pa: usize, pb: usize, ci: usize, ldc: i32, h: i32, w: i32, tile: usize): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  for (let q = 0; q < kc; q++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let av = v128.load32_splat(pa);
    c00 = madd(av, b0, c00);
    c01 = madd(av, b1, c01);
    av = v128.load32_splat(pa, 4);
    c10 = madd(av, b0, c10);
    c11 = madd(av, b1, c11);
    av = v128.load32_splat(pa, 8);
    c20 = madd(av, b0, c20);
    c21 = madd(av, b1, c21);
    av = v128.load32_splat(pa, 12);
    c30 = madd(av, b0, c30);
    c31 = madd(av, b1, c31);
    pa += 16;
    pb += 32;
  }
  const ld = <usize>(ldc * 4);
  if (h === MR && w === NR) {
    let p = ci;
    v128.store(p, f32x4.add(v128.load(p), c00));
    v128.store(p, f32x4.add(v128.load(p, 16), c01), 16);
    p += ld;
    v128.store(p, f32x4.add(v128.load(p), c10));
    v128.store(p, f32x4.add(v128.load(p, 16), c11), 16);
    p += ld;
    v128.store(p, f32x4.add(v128.load(p), c20));
    v128.store(p, f32x4.add(v128.load(p, 16), c21), 16);
    p += ld;
    v128.store(p, f32x4.add(v128.load(p), c30));
    v128.store(p, f32x4.add(v128.load(p, 16), c31), 16);
    return;
  }
  // Edge tile: spill the accumulators to scratch, then add the valid h×w part.
  v128.store(tile, c00);
  v128.store(tile, c01, 16);
  v128.store(tile, c10, 32);
  v128.store(tile, c11, 48);
  v128.store(tile, c20, 64);
  v128.store(tile, c21, 80);
  v128.store(tile, c30, 96);
  v128.store(tile, c31, 112);
  for (let r = 0; r < h; r++) {
    for (let s = 0; s < w; s++) {
      const p = ci + <usize>r * ld + <usize>(s * 4);
      store<f32>(p, load<f32>(p) + load<f32>(tile + <usize>((r * NR + s) * 4)));
    }
  }
}

/** Few rows (decode GEMV): dot products when B is transposed (rows of W contiguous), else axpy. */
function gemmSmall(
  m: i32,
  k: i32,
  j0: i32,
  j1: i32,
  a: usize,
  rsA: i32,
  csA: i32,
  b: usize,
  rsB: i32,
  csB: i32,
  c: usize,
  ldc: i32,
): void {
  for (let i = 0; i < m; i++) {
    const ai = a + <usize>(i * rsA * 4);
    const crow = c + <usize>(i * ldc * 4);
    if (rsB === 1 && csA === 1) {
      // C[i, j] += dot(A[i, :], W[j, :]), both contiguous: four rows of W per pass share A's loads.
      let j = j0;
      for (; j + 3 < j1; j += 4) {
        const w0 = b + <usize>(j * csB * 4);
        const w1 = w0 + <usize>(csB * 4);
        const w2 = w1 + <usize>(csB * 4);
        const w3 = w2 + <usize>(csB * 4);
        let s0 = f32x4.splat(0);
        let s1 = f32x4.splat(0);
        let s2 = f32x4.splat(0);
        let s3 = f32x4.splat(0);
        let q = 0;
        for (; q + 3 < k; q += 4) {
          const o = <usize>(q * 4);
          const x = v128.load(ai + o);
          s0 = madd(x, v128.load(w0 + o), s0);
          s1 = madd(x, v128.load(w1 + o), s1);
          s2 = madd(x, v128.load(w2 + o), s2);
          s3 = madd(x, v128.load(w3 + o), s3);
        }
        let t0 = hsum(s0);
        let t1 = hsum(s1);
        let t2 = hsum(s2);
        let t3 = hsum(s3);
        for (; q < k; q++) {
          const x = load<f32>(ai + <usize>(q * 4));
          t0 += x * load<f32>(w0 + <usize>(q * 4));
          t1 += x * load<f32>(w1 + <usize>(q * 4));
          t2 += x * load<f32>(w2 + <usize>(q * 4));
          t3 += x * load<f32>(w3 + <usize>(q * 4));
        }
        const p = crow + <usize>(j * 4);
        store<f32>(p, load<f32>(p) + t0);
        store<f32>(p, load<f32>(p, 4) + t1, 4);
        store<f32>(p, load<f32>(p, 8) + t2, 8);
        store<f32>(p, load<f32>(p, 12) + t3, 12);
      }
      for (; j < j1; j++) {
        const wj = b + <usize>(j * csB * 4);
        let t: f32 = 0;
        for (let q = 0; q < k; q++) t += load<f32>(ai + <usize>(q * 4)) * load<f32>(wj + <usize>(q * 4));
        const p = crow + <usize>(j * 4);
        store<f32>(p, load<f32>(p) + t);
      }
    } else {
      // C[i, j0:j1] += A[i, q] · B[q, j0:j1]
      for (let q = 0; q < k; q++) {
        const av = load<f32>(ai + <usize>(q * csA * 4));
        const bq = b + <usize>(q * rsB * 4);
        let j = j0;
        if (csB === 1) {
          const vs = f32x4.splat(av);
          for (; j + 3 < j1; j += 4) {
            const p = crow + <usize>(j * 4);
            v128.store(p, madd(vs, v128.load(bq + <usize>(j * 4)), v128.load(p)));
          }
        }
        for (; j < j1; j++) {
          const p = crow + <usize>(j * 4);
          store<f32>(p, load<f32>(p) + av * load<f32>(bq + <usize>(j * csB * 4)));
        }
      }
    }
  }
}

/** Sum of the four lanes (a copy of simd.ts's private one: exporting a v128 function makes asc warn). */
function hsum(v: v128): f32 {
  return (
    f32x4.extract_lane(v, 0) +
    f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3))
  );
}
