/**
 * NumPy `.npy` (format versions 1.0–3.0, C order, little-endian) to and from tensors. Parsing is
 * bounds-checked and linear in the (capped) header length; malformed input raises a `FormatError`
 * naming the offending part. The header dict itself is read by `npy-header.ts`.
 */
import { type DType, dtypeTraits } from "../dtype.js";
import { FormatError } from "../errors.js";
import { empty, shapeSize, type Tensor, type TensorOptions } from "../tensor.js";
import { NPY_MAX_HEADER_BYTES, parseNpyHeader } from "./npy-header.js";

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
  const minor = bytes[7]!;
  // NumPy reads exactly versions 1.0, 2.0 and 3.0 (numpy/lib/_format_impl.py, _header_size_info).
  if (major < 1 || major > 3 || minor !== 0) {
    throw new FormatError(
      "npy",
      `unsupported format version ${major}.${minor}; NumPy writes 1.0, 2.0 or 3.0`,
      {
        major,
        minor,
      },
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? dv.getUint16(8, true) : bytes.length >= 12 ? dv.getUint32(8, true) : -1;
  const headerStart = major === 1 ? 10 : 12;
  if (headerLen < 0 || headerStart + headerLen > bytes.length) {
    throw new FormatError(
      "npy",
      `header length ${headerLen} runs past the end of the ${bytes.length}-byte file`,
    );
  }
  if (headerLen > NPY_MAX_HEADER_BYTES) {
    throw new FormatError(
      "npy",
      `header length ${headerLen} exceeds the ${NPY_MAX_HEADER_BYTES}-byte limit NumPy also applies; re-save the array with numpy.save`,
      { headerLen },
    );
  }
  const raw = bytes.subarray(headerStart, headerStart + headerLen);
  let text: string;
  if (major === 3) {
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
    } catch {
      throw new FormatError("npy", "a version 3.0 header must be UTF-8; re-save the array with numpy.save");
    }
  } else {
    // Latin-1 byte for byte (TextDecoder's "latin1" is windows-1252, which remaps 0x80-0x9f).
    text = String.fromCharCode(...raw);
  }
  const { descr, fortranOrder, shape } = parseNpyHeader(text, major < 3);
  if (fortranOrder) throw new FormatError("npy", "Fortran-order arrays are not supported; save with C order");
  const dtype = Object.hasOwn(DESCR, descr) ? DESCR[descr] : undefined;
  if (!dtype) {
    throw new FormatError(
      "npy",
      `dtype '${descr.length > 40 ? `${descr.slice(0, 40)}…` : descr}' is not supported; use one of ${Object.keys(DESCR).join(", ")}`,
      { descr },
    );
  }
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
