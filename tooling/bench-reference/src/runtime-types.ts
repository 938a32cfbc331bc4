/**
 * The few members of tfjs-core, tfjs-backend-wasm and onnxruntime-node that the reference benches
 * call, typed by hand: the runtimes install on demand, so their own .d.ts files are not there when
 * the workspace typechecks. Not a description of those libraries beyond what is used here.
 */

/** A tfjs tensor: read back synchronously, then free. */
export interface TfTensor {
  dataSync(): ArrayLike<number>;
  dispose(): void;
}

/** `@tensorflow/tfjs-core`: tensors, matMul and backend selection. */
export interface TfCore {
  tensor2d(values: Float32Array, shape: [number, number]): TfTensor;
  matMul(a: TfTensor, b: TfTensor): TfTensor;
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
}

/** `@tensorflow/tfjs-backend-wasm`: where its .wasm files are, and their version. */
export interface TfWasm {
  setWasmPaths(prefix: string): void;
  readonly version_wasm: string;
}

/** An onnxruntime session over one model. */
export interface OrtSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, { readonly data: unknown } | undefined>>;
  release(): Promise<void>;
}

/** `onnxruntime-node`: sessions, tensors and the version table. */
export interface Ort {
  readonly InferenceSession: {
    create(
      model: Uint8Array,
      options: { intraOpNumThreads: number; interOpNumThreads: number; executionMode: "sequential" },
    ): Promise<OrtSession>;
  };
  readonly Tensor: new (type: "float32", data: Float32Array, dims: readonly number[]) => unknown;
  readonly env: { readonly versions: { readonly node?: string } };
}
