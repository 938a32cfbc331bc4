/**
 * The three tile products Flash attention is made of, on raw Float32Arrays: S = A·Bᵀ (scores, dP),
 * C += P·X (output, dQ) and C += Pᵀ·X (dV, dK). Rows are contiguous vectors of length D; the tile
 * P has row stride `lp`. 4×4 register tiles with scalar edges. No allocation, no masking, no softmax:
 * those belong to the caller (`flash-kernel.ts`).
 */

/**
 * S[i·ls + j] = Σ_d A[a0 + i·D + d] · B[b0 + j·D + d] for i < m, j < n.
 * A: m rows (queries or dO), B: n rows (keys or values), S: m × n tile with row stride ls.
 */
export function dotTile(
  s: Float32Array,
  ls: number,
  a: Float32Array,
  a0: number,
  m: number,
  b: Float32Array,
  b0: number,
  n: number,
  D: number,
): void {
  let i = 0;
  for (; i + 3 < m; i += 4) {
    const r0 = a0 + i * D;
    const r1 = r0 + D;
    const r2 = r1 + D;
    const r3 = r2 + D;
    const si = i * ls;
    let j = 0;
    for (; j + 3 < n; j += 4) {
      const c0 = b0 + j * D;
      const c1 = c0 + D;
      const c2 = c1 + D;
      const c3 = c2 + D;
      let s00 = 0,
        s01 = 0,
        s02 = 0,
        s03 = 0;
      let s10 = 0,
        s11 = 0,
        s12 = 0,
        s13 = 0;
      let s20 = 0,
        s21 = 0,
        s22 = 0,
        s23 = 0;
      let s30 = 0,
        s31 = 0,
        s32 = 0,
        s33 = 0;
      for (let d = 0; d < D; d++) {
        const x0 = a[r0 + d]!;
        const x1 = a[r1 + d]!;
        const x2 = a[r2 + d]!;
        const x3 = a[r3 + d]!;
        const y0 = b[c0 + d]!;
        const y1 = b[c1 + d]!;
        const y2 = b[c2 + d]!;
        const y3 = b[c3 + d]!;
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
        s20 += x2 * y0;
        s21 += x2 * y1;
        s22 += x2 * y2;
        s23 += x2 * y3;
        s30 += x3 * y0;
        s31 += x3 * y1;
        s32 += x3 * y2;
        s33 += x3 * y3;
      }
      const o = si + j;
      s[o] = s00;
      s[o + 1] = s01;
      s[o + 2] = s02;
      s[o + 3] = s03;
      s[o + ls] = s10;
      s[o + ls + 1] = s11;
      s[o + ls + 2] = s12;
      s[o + ls + 3] = s13;
      s[o + 2 * ls] = s20;
      s[o + 2 * ls + 1] = s21;
      s[o + 2 * ls + 2] = s22;
      s[o + 2 * ls + 3] = s23;
      s[o + 3 * ls] = s30;
      s[o + 3 * ls + 1] = s31;
      s[o + 3 * ls + 2] = s32;
      s[o + 3 * ls + 3] = s33;
    }
    for (; j < n; j++) {
      const c = b0 + j * D;
      let t0 = 0;
      let t1 = 0;
      let t2 = 0;
      let t3 = 0;
      for (let d = 0; d < D; d++) {
        const y = b[c + d]!;
        t0 += a[r0 + d]! * y;
        t1 += a[r1 + d]! * y;
        t2 += a[r2 + d]! * y;
        t3 += a[r3 + d]! * y;
      }
      s[si + j] = t0;
      s[si + ls + j] = t1;
      s[si + 2 * ls + j] = t2;
      s[si + 3 * ls + j] = t3;
    }
  }
  for (; i < m; i++) {
    const r = a0 + i * D;
    for (let j = 0; j < n; j++) s[i * ls + j] = dot(a, r, b, b0 + j * D, D);
  }
}

/** Σ_d x[xo + d] · y[yo + d], unrolled by four. */
export function dot(x: Float32Array, xo: number, y: Float32Array, yo: number, D: number): number {
  let t0 = 0;
  let t1 = 0;
  let t2 = 0;
  let t3 = 0;
  let d = 0;
  for (; d + 3 < D; d += 4) {
    t0 += x[xo + d]! * y[yo + d]!;
    t1 += x[xo + d + 1]! * y[yo + d + 1]!;
    t2 += x[xo + d + 2]! * y[yo + d + 2]!;
    t3 += x[xo + d + 3]! * y[yo + d + 3]!;
  }
  for (; d < D; d++) t0 += x[xo + d]! * y[yo + d]!;
  return t0 + t1 + t2 + t3;
}

/**
 * C[c0 + i·D + d] += Σ_j P[i·lp + j] · X[x0 + j·D + d] for i < m, j < n, d < D.
 * P: m × n tile (probabilities or dS), X: n rows (values or keys), C: m rows (output or dQ).
 */
export function accumulateTile(
  c: Float32Array,
  c0: number,
  p: Float32Array,
  lp: number,
  m: number,
  n: number,
  x: Float32Array,
  x0: number,
  D: number,
): void {
  let i = 0;
  for (; i + 3 < m; i += 4) {
    const p0 = i * lp;
    const p1 = p0 + lp;
    const p2 = p1 + lp;
    const p3 = p2 + lp;
    const o0 = c0 + i * D;
    const o1 = o0 + D;
    const o2 = o1 + D;
    const o3 = o2 + D;
    let d = 0;
    for (; d + 3 < D; d += 4) {
      let s00 = 0,
        s01 = 0,
        s02 = 0,
        s03 = 0;
      let s10 = 0,
        s11 = 0,
        s12 = 0,
        s13 = 0;
      let s20 = 0,
        s21 = 0,
        s22 = 0,
        s23 = 0;
      let s30 = 0,
        s31 = 0,
        s32 = 0,
        s33 = 0;
      for (let j = 0; j < n; j++) {
        const xr = x0 + j * D + d;
        const y0 = x[xr]!;
        const y1 = x[xr + 1]!;
        const y2 = x[xr + 2]!;
        const y3 = x[xr + 3]!;
        const w0 = p[p0 + j]!;
        const w1 = p[p1 + j]!;
        const w2 = p[p2 + j]!;
        const w3 = p[p3 + j]!;
        s00 += w0 * y0;
        s01 += w0 * y1;
        s02 += w0 * y2;
        s03 += w0 * y3;
        s10 += w1 * y0;
        s11 += w1 * y1;
        s12 += w1 * y2;
        s13 += w1 * y3;
        s20 += w2 * y0;
        s21 += w2 * y1;
        s22 += w2 * y2;
        s23 += w2 * y3;
        s30 += w3 * y0;
        s31 += w3 * y1;
        s32 += w3 * y2;
        s33 += w3 * y3;
      }
      c[o0 + d] = c[o0 + d]! + s00;
      c[o0 + d + 1] = c[o0 + d + 1]! + s01;
      c[o0 + d + 2] = c[o0 + d + 2]! + s02;
      c[o0 + d + 3] = c[o0 + d + 3]! + s03;
      c[o1 + d] = c[o1 + d]! + s10;
      c[o1 + d + 1] = c[o1 + d + 1]! + s11;
      c[o1 + d + 2] = c[o1 + d + 2]! + s12;
      c[o1 + d + 3] = c[o1 + d + 3]! + s13;
      c[o2 + d] = c[o2 + d]! + s20;
      c[o2 + d + 1] = c[o2 + d + 1]! + s21;
      c[o2 + d + 2] = c[o2 + d + 2]! + s22;
      c[o2 + d + 3] = c[o2 + d + 3]! + s23;
      c[o3 + d] = c[o3 + d]! + s30;
      c[o3 + d + 1] = c[o3 + d + 1]! + s31;
      c[o3 + d + 2] = c[o3 + d + 2]! + s32;
      c[o3 + d + 3] = c[o3 + d + 3]! + s33;
    }
    for (; d < D; d++) {
      let t0 = 0;
      let t1 = 0;
      let t2 = 0;
      let t3 = 0;
      for (let j = 0; j < n; j++) {
        const y = x[x0 + j * D + d]!;
        t0 += p[p0 + j]! * y;
        t1 += p[p1 + j]! * y;
        t2 += p[p2 + j]! * y;
        t3 += p[p3 + j]! * y;
      }
      c[o0 + d] = c[o0 + d]! + t0;
      c[o1 + d] = c[o1 + d]! + t1;
      c[o2 + d] = c[o2 + d]! + t2;
      c[o3 + d] = c[o3 + d]! + t3;
    }
  }
  for (; i < m; i++) {
    // One row: C[i, :] += Σ_j P[i, j] · X[j, :] as axpys (decode: Tq = 1).
    const pi = i * lp;
    const o = c0 + i * D;
    for (let j = 0; j < n; j++) {
      const w = p[pi + j]!;
      if (w === 0) continue;
      const xr = x0 + j * D;
      for (let d = 0; d < D; d++) c[o + d] = c[o + d]! + w * x[xr + d]!;
    }
  }
}

/**
 * C[c0 + j·D + d] += Σ_i P[i·lp + j] · X[x0 + i·D + d] for i < m, j < n, d < D.
 * P: m × n tile used transposed, X: m rows (dO or Q), C: n rows (dV or dK).
 */
export function accumulateTileT(
  c: Float32Array,
  c0: number,
  p: Float32Array,
  lp: number,
  m: number,
  n: number,
  x: Float32Array,
  x0: number,
  D: number,
): void {
  let j = 0;
  for (; j + 3 < n; j += 4) {
    const o0 = c0 + j * D;
    const o1 = o0 + D;
    const o2 = o1 + D;
    const o3 = o2 + D;
    let d = 0;
    for (; d + 3 < D; d += 4) {
      let s00 = 0,
        s01 = 0,
        s02 = 0,
        s03 = 0;
      let s10 = 0,
        s11 = 0,
        s12 = 0,
        s13 = 0;
      let s20 = 0,
        s21 = 0,
        s22 = 0,
        s23 = 0;
      let s30 = 0,
        s31 = 0,
        s32 = 0,
        s33 = 0;
      for (let i = 0; i < m; i++) {
        const xr = x0 + i * D + d;
        const y0 = x[xr]!;
        const y1 = x[xr + 1]!;
        const y2 = x[xr + 2]!;
        const y3 = x[xr + 3]!;
        const pr = i * lp + j;
        const w0 = p[pr]!;
        const w1 = p[pr + 1]!;
        const w2 = p[pr + 2]!;
        const w3 = p[pr + 3]!;
        s00 += w0 * y0;
        s01 += w0 * y1;
        s02 += w0 * y2;
        s03 += w0 * y3;
        s10 += w1 * y0;
        s11 += w1 * y1;
        s12 += w1 * y2;
        s13 += w1 * y3;
        s20 += w2 * y0;
        s21 += w2 * y1;
        s22 += w2 * y2;
        s23 += w2 * y3;
        s30 += w3 * y0;
        s31 += w3 * y1;
        s32 += w3 * y2;
        s33 += w3 * y3;
      }
      c[o0 + d] = c[o0 + d]! + s00;
      c[o0 + d + 1] = c[o0 + d + 1]! + s01;
      c[o0 + d + 2] = c[o0 + d + 2]! + s02;
      c[o0 + d + 3] = c[o0 + d + 3]! + s03;
      c[o1 + d] = c[o1 + d]! + s10;
      c[o1 + d + 1] = c[o1 + d + 1]! + s11;
      c[o1 + d + 2] = c[o1 + d + 2]! + s12;
      c[o1 + d + 3] = c[o1 + d + 3]! + s13;
      c[o2 + d] = c[o2 + d]! + s20;
      c[o2 + d + 1] = c[o2 + d + 1]! + s21;
      c[o2 + d + 2] = c[o2 + d + 2]! + s22;
      c[o2 + d + 3] = c[o2 + d + 3]! + s23;
      c[o3 + d] = c[o3 + d]! + s30;
      c[o3 + d + 1] = c[o3 + d + 1]! + s31;
      c[o3 + d + 2] = c[o3 + d + 2]! + s32;
      c[o3 + d + 3] = c[o3 + d + 3]! + s33;
    }
    for (; d < D; d++) {
      let t0 = 0;
      let t1 = 0;
      let t2 = 0;
      let t3 = 0;
      for (let i = 0; i < m; i++) {
        const y = x[x0 + i * D + d]!;
        const pr = i * lp + j;
        t0 += p[pr]! * y;
        t1 += p[pr + 1]! * y;
        t2 += p[pr + 2]! * y;
        t3 += p[pr + 3]! * y;
      }
      c[o0 + d] = c[o0 + d]! + t0;
      c[o1 + d] = c[o1 + d]! + t1;
      c[o2 + d] = c[o2 + d]! + t2;
      c[o3 + d] = c[o3 + d]! + t3;
    }
  }
  for (; j < n; j++) {
    // One column of P: C[j, :] += Σ_i P[i, j] · X[i, :] as axpys.
    const o = c0 + j * D;
    for (let i = 0; i < m; i++) {
      const w = p[i * lp + j]!;
      if (w === 0) continue;
      const xr = x0 + i * D;
      for (let d = 0; d < D; d++) c[o + d] = c[o + d]! + w * x[xr + d]!;
    }
  }
}
