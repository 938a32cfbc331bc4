/**
 * Reference matmuls for `pnpm bench matmul` and `pnpm bench decode` (benchmark-only; never a runtime
 * dependency of any package): TensorFlow.js's WASM backend (SIMD; single-threaded under Node) and
 * onnxruntime-node's CPU MatMul (MLAS) with 1 or 2 intra-op threads. Each `prepare` returns a function
 * that computes C [m, n] = A [m, k] · B [k, n] from row-major f32 operands and reads C back to JS
 * memory. The runtimes are installed on first use (runtimes.ts), not by `pnpm install`.
 */
import { dirname, join } from "node:path";
import type { Ort, TfCore, TfWasm } from "./runtime-types.js";
import { ensureRuntimes } from "./runtimes.js";

/** A prepared product: run it repeatedly; `dispose` frees the library's buffers. */
export interface PreparedMatmul {
  run(): void | Promise<void>;
  dispose(): void;
}

/** One reference library's matmul, ready to prepare operands for. */
export interface ReferenceMatmul {
  readonly name: string;
  /** Which kernel runs, for the bench's notes. */
  readonly kernel: string;
  prepare(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Promise<PreparedMatmul>;
  dispose(): void;
}

/** TensorFlow.js with `@tensorflow/tfjs-backend-wasm` (XNNPACK kernels, SIMD build). */
export async function tfjsWasm(): Promise<ReferenceMatmul> {
  const require = ensureRuntimes();
  // Both CommonJS builds from one cache directory: the backend registers into this tfjs-core instance.
  const tf = require("@tensorflow/tfjs-core") as TfCore;
  const wasmBackend = require("@tensorflow/tfjs-backend-wasm") as TfWasm;
  // Point the loader at the package's own .wasm files (Node reads them from disk).
  const dist = join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist");
  wasmBackend.setWasmPaths(`${dist}/`);
  await tf.setBackend("wasm");
  await tf.ready();
  return {
    name: "tfjs-wasm",
    kernel: `tfjs-backend-wasm ${wasmBackend.version_wasm} (XNNPACK; SIMD, 1 thread under Node)`,
    prepare: async (a, b, m, k, n) => {
      const A = tf.tensor2d(a, [m, k]);
      const B = tf.tensor2d(b, [k, n]);
      return {
        run: () => {
          const C = tf.matMul(A, B);
          C.dataSync();
          C.dispose();
        },
        dispose: () => {
          A.dispose();
          B.dispose();
        },
      };
    },
    dispose: () => {},
  };
}

// --- a minimal ONNX model writer (protobuf wire format) for one MatMul node --------------------------

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}
const field = (num: number, wire: number) => varint(num * 8 + wire);
const int = (num: number, v: number) => [...field(num, 0), ...varint(v)];
const bytes = (num: number, b: number[]) => [...field(num, 2), ...varint(b.length), ...b];
const str = (num: number, s: string) => bytes(num, [...new TextEncoder().encode(s)]);

/** ValueInfoProto: name, TypeProto{tensor_type{elem_type FLOAT=1, shape{dim{dim_value}}}}. */
function valueInfo(name: string, dims: number[]): number[] {
  const shape = dims.flatMap((d) => bytes(1, int(1, d)));
  const tensorType = [...int(1, 1), ...bytes(2, shape)];
  return [...str(1, name), ...bytes(2, bytes(1, tensorType))];
}

/** ModelProto (IR 8, opset 13) computing C = MatMul(A, B). */
export function matmulOnnxModel(m: number, k: number, n: number): Uint8Array {
  const node = [...str(1, "A"), ...str(1, "B"), ...str(2, "C"), ...str(4, "MatMul")];
  const graph = [
    ...bytes(1, node),
    ...str(2, "matmul"),
    ...bytes(11, valueInfo("A", [m, k])),
    ...bytes(11, valueInfo("B", [k, n])),
    ...bytes(12, valueInfo("C", [m, n])),
  ];
  const opset = [...str(1, ""), ...int(2, 13)];
  return new Uint8Array([...int(1, 8), ...str(2, "tradeoffs-bench"), ...bytes(7, graph), ...bytes(8, opset)]);
}

/** onnxruntime-node's CPU execution provider with `threads` intra-op threads. */
export async function onnxRuntime(threads: number): Promise<ReferenceMatmul> {
  const ort = ensureRuntimes()("onnxruntime-node") as Ort;
  const sessions = new Set<{ release(): Promise<void> }>();
  return {
    name: `ort-${threads}t`,
    kernel: `onnxruntime-node ${ort.env.versions.node ?? "?"} CPU EP (MLAS), intraOpNumThreads=${threads}`,
    prepare: async (a, b, m, k, n) => {
      const session = await ort.InferenceSession.create(matmulOnnxModel(m, k, n), {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: "sequential",
      });
      sessions.add(session);
      const feeds = { A: new ort.Tensor("float32", a, [m, k]), B: new ort.Tensor("float32", b, [k, n]) };
      return {
        run: async () => {
          const out = await session.run(feeds);
          void out.C?.data;
        },
        dispose: () => {
          if (sessions.delete(session)) void session.release();
        },
      };
    },
    dispose: () => {
      for (const s of sessions) void s.release();
      sessions.clear();
    },
  };
}
