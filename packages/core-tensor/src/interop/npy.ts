/**
 * NumPy `.npy` (format versions 1.0–3.0, C order, little-endian) to and from tensors. Parsing is
 * bounds-checked; malformed input raises a `FormatError` naming the offending part.
 */
import { type DType, dtypeTraits } from "../dtype.js";
import { FormatError } from "../errors.js";
import { empty, shapeSize, type Tensor, type TensorOptions } from "../tensor.js";

const DESCR: Record<string, DType> = {
  "<f4": "f32",
  "<f2": "f16",
  "<i4": "i32",
  "|i1": "i8",
  "|u1": "u8",
  "<u1": "u8",
  "<i1": "i8",
};
const DESCR_OF: Record<string, string> = { f32: "<f4", f16: "<f2", i32: "<i4", i8: "|i1", u8: "|u1" };
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Parse `.npy` bytes into a new tensor (copied into ledger storage). */
export function readNpy(bytes: Uint8Array, options: TensorOptions = {}): Tensor {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new FormatError("npy", "missing the \\x93NUMPY magic; not a .npy file");
  }
  const major = bytes[6]!;
  if (major < 1 || major > 3)
    throw new FormatError("npy", `unsupported format version ${major}.${bytes[7]}`, { major });
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? dv.getUint16(8, true) : bytes.length >= 12 ? dv.getUint32(8, true) : -1;
  const headerStart = major === 1 ? 10 : 12;
  if (headerLen < 0 || headerStart + headerLen > bytes.length) {
    throw new FormatError(
      "npy",
      `header length ${headerLen} runs past the end of the ${bytes.length}-byte file`,
    );
  }
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(headerStart, headerStart + headerLen),
  );
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new FormatError(
      "npy",
      `header is not a dict with descr, fortran_order and shape: ${header.trim()}`,
    );
  }
  if (fortran === "True")
    throw new FormatError("npy", "Fortran-order arrays are not supported; save with C order");
  const dtype = DESCR[descr];
  if (!dtype) {
    throw new FormatError(
      "npy",
      `dtype '${descr}' is not supported; use one of ${Object.keys(DESCR).join(", ")}`,
      { descr },
    );
  }
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => {
      const n = Number(s.replace(/L$/, ""));
      if (!(Number.isInteger(n) && n >= 0))
        throw new FormatError("npy", `bad dimension '${s}' in shape (${shapeText})`);
      return n;
    });
  const dataStart = headerStart + headerLen;
  // Check the size before allocating: a corrupt shape must not become a huge allocation.
  const need = shapeSize(shape) * dtypeTraits(dtype).bytesPerBlock;
  if (bytes.length - dataStart < need) {
    throw new FormatError(
      "npy",
      `data holds ${bytes.length - dataStart} bytes, shape [${shape}] ${descr} needs ${need}`,
      { have: bytes.length - dataStart, need },
    );
  }
  const t = empty(shape, { ...options, dtype });
  const v = t.values;
  new Uint8Array(v.buffer, v.byteOffset, v.byteLength).set(bytes.subarray(dataStart, dataStart + need));
  return t;
}

/** Serialise a tensor as `.npy` version 1.0 (bf16 has no NumPy dtype and is refused). */
export function writeNpy(t: Tensor): Uint8Array {
  const descr = DESCR_OF[t.dtype];
  if (!descr) throw new FormatError("npy", `${t.dtype} has no NumPy dtype; convert with toF32() first`);
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += `${" ".repeat((64 - (total % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + header.length + t.bytes);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const v = t.values;
  out.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), 10 + header.length);
  if (shapeSize(t.shape) !== t.size) throw new FormatError("npy", "internal: shape/size mismatch");
  return out;
}
