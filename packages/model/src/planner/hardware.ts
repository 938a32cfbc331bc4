/**
 * The planner's device table: capacity in bytes as the driver reports it, dense peak FLOP/s per
 * precision, memory bandwidth, links, and the efficiency factors the roofline applies. Not the
 * single-device `HARDWARE` of roofline.ts (that one stays as it is); `local` is measured here.
 */
import { closestMatch, ValueError } from "@tradeoffs/core-tensor";
import { calibrateLocal } from "../roofline.js";

/** Arithmetic precisions a device's peak is quoted for. */
export const PRECISIONS = ["fp16", "bf16", "fp8", "int8"] as const;
/** One of `PRECISIONS`. */
export type Precision = (typeof PRECISIONS)[number];

/** A link between devices: bandwidth per device per direction, bytes/s. */
export interface Link {
  /** `nvlink4`, `pcie5`, `infiniband-ndr`, ... */
  readonly kind: string;
  /** Bandwidth in bytes/s, per direction. */
  readonly bandwidth: number;
}

/**
 * Fractions of peak the roofline assumes a real kernel reaches. These are this project's
 * assumptions, not measurements: large GEMMs reach 60–80% of dense peak on current GPUs, streaming
 * kernels 80–90% of memory bandwidth, and NCCL ring collectives ~75–85% of link bandwidth (see
 * NVIDIA/nccl#1264: 783 of 900 GB/s on NVLink4). Override them per run.
 */
export interface Efficiency {
  /** Fraction of peak FLOP/s large matmuls reach. */
  readonly compute: number;
  /** Fraction of memory bandwidth streaming reads reach. */
  readonly memory: number;
  /** Fraction of link bandwidth collectives reach. */
  readonly network: number;
}

/** One device preset: capacity, peaks, bandwidth, links and efficiencies, with sources. */
export interface DeviceSpec {
  /** The name `--hardware` takes. */
  readonly name: string;
  /** Product name and memory size. */
  readonly description: string;
  /** Device memory in bytes as the driver reports it (nvidia-smi total × 2^20; rocminfo; sysctl). */
  readonly memoryBytes: number;
  /** Where `memoryBytes` comes from. */
  readonly memorySource: string;
  /** Dense (no structured sparsity) peak FLOP/s (OP/s for int8); 0 where the device has no such unit. */
  readonly flops: Readonly<Record<Precision, number>>;
  /** Memory bandwidth, bytes/s. */
  readonly bandwidth: number;
  /** Link between devices of one node (NVLink, Infinity Fabric, PCIe). */
  readonly intraNode: Link;
  /** Link between nodes, per device. */
  readonly interNode: Link;
  /** Link from the device to host memory (offload traffic); Infinity when memory is unified. */
  readonly host: Link;
  /** Devices per node (joined by `intraNode` links). */
  readonly gpusPerNode: number;
  /** CPU and GPU share one memory (Apple silicon): offload moves nothing. */
  readonly unified: boolean;
  /** Runtime context the framework holds before any tensor (CUDA/HIP/Metal context), bytes. */
  readonly contextBytes: number;
  /** The fractions of peak the roofline applies. */
  readonly efficiency: Efficiency;
  /** Datasheet or whitepaper of the peaks and bandwidth. */
  readonly source: string;
}

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const T = 1e12;
const GB = 1e9;

// Links (per device, per direction). NVLink3 (A100): 600 GB/s total = 300 GB/s each way; NVLink4
// (H100/H200): 900 GB/s total = 450 GB/s each way; PCIe 4.0 x16 ≈ 32 GB/s and 5.0 x16 ≈ 64 GB/s
// each way; MI300X Infinity Fabric: 896 GB/s aggregate bidirectional = 448 GB/s each way.
// Inter-node: one HDR (200 Gb/s = 25 GB/s) or NDR (400 Gb/s = 50 GB/s) InfiniBand NIC per GPU as in
// DGX A100 / DGX H100; 100 GbE (12.5 GB/s) per GPU assumed for PCIe servers of L4/L40S/GeForce cards.
const nvlink3: Link = { kind: "nvlink3", bandwidth: 300 * GB };
const nvlink4: Link = { kind: "nvlink4", bandwidth: 450 * GB };
const pcie4: Link = { kind: "pcie4", bandwidth: 32 * GB };
const pcie5: Link = { kind: "pcie5", bandwidth: 64 * GB };
const hdr: Link = { kind: "infiniband-hdr", bandwidth: 25 * GB };
const ndr: Link = { kind: "infiniband-ndr", bandwidth: 50 * GB };
const ethernet100: Link = { kind: "ethernet-100g", bandwidth: 12.5 * GB };
const unifiedHost: Link = { kind: "unified", bandwidth: Number.POSITIVE_INFINITY };
// Apple machines: one GPU per machine; Thunderbolt 4/5 between machines (40 Gb/s = 5 GB/s).
const thunderbolt: Link = { kind: "thunderbolt", bandwidth: 5 * GB };

const NVIDIA_DC: Efficiency = { compute: 0.7, memory: 0.85, network: 0.8 };
const NVIDIA_PCIE: Efficiency = { compute: 0.7, memory: 0.85, network: 0.7 };
// MI300X: public GEMM benchmarks reach a smaller share of the quoted peak than on H100.
const AMD: Efficiency = { compute: 0.5, memory: 0.75, network: 0.7 };
const APPLE: Efficiency = { compute: 0.6, memory: 0.8, network: 0.5 };
/** CUDA context + cuBLAS/cuDNN workspaces of a PyTorch process (typical 300–600 MiB). */
const CUDA_CONTEXT = 512 * MiB;

const nvSmi = (mib: number, where: string) => ({
  memoryBytes: mib * MiB,
  memorySource: `nvidia-smi total ${mib}MiB (${where})`,
});

/** The presets, keyed by the name users type. */
export const DEVICES: Readonly<Record<string, DeviceSpec>> = {
  // NVIDIA A100 Tensor Core GPU datasheet: BF16/FP16 312 TFLOPS dense, INT8 624 TOPS, no FP8;
  // 40GB SXM4 1,555 GB/s; 80GB SXM4 2,039 GB/s; NVLink 600 GB/s.
  "a100-40gb": {
    name: "a100-40gb",
    description: "NVIDIA A100 SXM4 40GB",
    ...nvSmi(40960, "modal-labs/modal-client#2797"),
    flops: { fp16: 312 * T, bf16: 312 * T, fp8: 0, int8: 624 * T },
    bandwidth: 1555 * GB,
    intraNode: nvlink3,
    interNode: hdr,
    host: pcie4,
    gpusPerNode: 8,
    unified: false,
    contextBytes: CUDA_CONTEXT,
    efficiency: NVIDIA_DC,
    source: "NVIDIA A100 datasheet",
  },
  "a100-80gb": {
    name: "a100-80gb",
    description: "NVIDIA A100 SXM4 80GB",
    ...nvSmi(81920, "modal-labs/modal-client#2797"),
    flops: { fp16: 312 * T, bf16: 312 * T, fp8: 0, int8: 624 * T },
    bandwidth: 2039 * GB,
    intraNode: nvlink3,
    interNode: hdr,
    host: pcie4,
    gpusPerNode: 8,
    unified: false,
    contextBytes: CUDA_CONTEXT,
    efficiency: NVIDIA_DC,
    source: "NVIDIA A100 datasheet",
  },
  // NVIDIA H100 datasheet (SXM5): BF16/FP16 1,979 TFLOPS and FP8/INT8 3,958 with sparsity, i.e.
  // 989.4 / 1,978.9 dense; 3.35 TB/s HBM3; NVLink 900 GB/s.
  "h100-sxm": {
    name: "h100-sxm",
    description: "NVIDIA H100 SXM5 80GB",
    ...nvSmi(81559, "NVIDIA/nccl#1264, modal-labs/modal-client#2797"),
    flops: { fp16: 989.4 * T, bf16: 989.4 * T, fp8: 1978.9 * T, int8: 1978.9 * T },
    bandwidth: 3350 * GB,
    intraNode: nvlink4,
    interNode: ndr,
    host: pcie5,
    gpusPerNode: 8,
    unified: false,
    contextBytes: CUDA_CONTEXT,
    efficiency: NVIDIA_DC,
    source: "NVIDIA H100 datasheet",
  },
  // NVIDIA H100 datasheet (PCIe 80GB): BF16 1,513 and FP8/INT8 3,026 TFLOPS with sparsity (756.5 /
  // 1,513 dense); 2.0 TB/s HBM2e; PCIe 5.0 between cards (the NVLink bridge pairs two cards only).
  "h100-pcie": {
    name: "h100-pcie",
    description: "NVIDIA H100 PCIe 80GB",
    ...nvSmi(81559, "public nvidia-smi logs of 'NVIDIA H100 PCIe'"),
    flops: { fp16: 756.5 * T, bf16: 756.5 * T, fp8: 1513 * T, int8: 1513 * T },
    bandwidth: 2000 * GB,
    intraNode: pcie5,
    interNode: ndr,
    host: pcie5,
    gpusPerNode: 8,
    unified: false,
    contextBytes: CUDA_CONTEXT,
    efficiency: NVIDIA_PCIE,
    source: "NVIDIA H100 datasheet",
  },
  // NVIDIA H200 datasheet (SXM): the H100 SXM's tensor cores with 141 GB HBM3e at 4.8 TB/s.
  h200: {
    name: "h200",
    description: "NVIDIA H200 SXM 141GB",
    ...nvSmi(143771, "public nvidia-smi logs of 'NVIDIA H200'"),
    flops: { fp16: 989.4 * T, bf16: 989.4 * T, fp8: 1978.9 * T, int8: 1978.9 * T },
    bandwidth: 4800 * GB,
    intraNode: nvlink4,
    interNode: ndr,
    host: pcie5,
    gpusPerNode: 8,
    unified: false,
    contextBytes: CUDA_CONTEXT,
    efficiency: NVIDIA_DC,
    source: "NVIDIA H200 datasheet",
  },
  // NVIDIA L4 datasheet: FP16/BF16 242 TFLOPS and FP8/INT8 485 with sparsity (121 / 242.5 dense);
  // 300 GB/s GDDR6; PCIe 4.0 x16.
  l4: {
    name: "l4",
    description: "NVIDIA L4 24GB",
    ...nvSmi(23034, "modal-labs/modal-client#2797"),
    flops: { fp16: 121 * T, bf16: 121 * T, fp8: 242.5 * T, int8: 242.5 * T },
    bandwidth: 300 * GB,
    intraNode: pcie4,
    interNode: ethernet100,
    host: pcie4,
    gpusPerNode: 8,
    unified: false,
    contextBytes: CUDA_CONTEXT,
    efficiency: NVIDIA_PCIE,
    source: "NVIDIA L4 datasheet",
  },
  // NVIDIA L40S datasheet: BF16/FP16 733 and FP8/INT8 1,466 with sparsity (366.5 / 733 dense);
  // 864 GB/s GDDR6; PCIe 4.0 x16.
  l40s: {
    name: "l40s",
    description: "NVIDIA L40S 48GB",
    ...nvSmi(46068, "modal-labs/modal-client#2797"),
    flops: { fp16: 366.5 * T, bf16: 366.5 * T, fp8: 733 * T, int8: 733 * T },
    bandwidth: 864 * GB,
    intraNode: pcie4,
    interNode: ethernet100,
    host: pcie4,
    gpusPerNode: 8,
    unified: false,
    contextBytes: CUDA_CONTEXT,
    efficiency: NVIDIA_PCIE,
    source: "NVIDIA L40S datasheet",
  },
  // NVIDIA Ampere GA102 whitepaper (RTX 3090): FP16/BF16 tensor with FP32 accumulate 71 TFLOPS
  // dense (GeForce runs FP32 accumulation at half rate), INT8 284 TOPS dense; 936 GB/s GDDR6X.
  "rtx-3090": {
    name: "rtx-3090",
    description: "NVIDIA GeForce RTX 3090 24GB",
    ...nvSmi(24576, "noonghunna/club-3090#1129"),
    flops: { fp16: 71 * T, bf16: 71 * T, fp8: 0, int8: 284 * T },
    bandwidth: 936 * GB,
    intraNode: pcie4,
    interNode: ethernet100,
    host: pcie4,
    gpusPerNode: 4,
    unified: false,
    contextBytes: CUDA_CONTEXT,
    efficiency: NVIDIA_PCIE,
    source: "NVIDIA Ampere GA102 GPU architecture whitepaper",
  },
  // NVIDIA Ada Lovelace whitepaper (RTX 4090): FP16/BF16 with FP32 accumulate 165.2 TFLOPS dense,
  // FP8 330.3, INT8 660.6 TOPS dense; 1,008 GB/s GDDR6X; no NVLink.
  "rtx-4090": {
    name: "rtx-4090",
    description: "NVIDIA GeForce RTX 4090 24GB",
    ...nvSmi(24564, "RLinf/RLinf#255"),
    flops: { fp16: 165.2 * T, bf16: 165.2 * T, fp8: 330.3 * T, int8: 660.6 * T },
    bandwidth: 1008 * GB,
    intraNode: pcie4,
    interNode: ethernet100,
    host: pcie4,
    gpusPerNode: 4,
    unified: false,
    contextBytes: CUDA_CONTEXT,
    efficiency: NVIDIA_PCIE,
    source: "NVIDIA Ada Lovelace GPU architecture whitepaper",
  },
  // AMD Instinct MI300X datasheet: FP16/BF16 1,307.4 TFLOPS dense, FP8/INT8 2,614.9; 5.3 TB/s
  // HBM3; Infinity Fabric 896 GB/s aggregate peer bandwidth.
  mi300x: {
    name: "mi300x",
    description: "AMD Instinct MI300X 192GB",
    memoryBytes: 201310208 * 1024,
    memorySource: "rocminfo global pool 201310208 KB (ROCm/legacy-rocm-build#4414)",
    flops: { fp16: 1307.4 * T, bf16: 1307.4 * T, fp8: 2614.9 * T, int8: 2614.9 * T },
    bandwidth: 5300 * GB,
    intraNode: { kind: "infinity-fabric", bandwidth: 448 * GB },
    interNode: ndr,
    host: pcie5,
    gpusPerNode: 8,
    unified: false,
    contextBytes: CUDA_CONTEXT,
    efficiency: AMD,
    source: "AMD Instinct MI300X datasheet",
  },
  // Apple M2 Ultra (76-core GPU): 192 GB unified memory at 800 GB/s (Apple); 76 cores × 128 ALUs ×
  // 2 FLOP × 1.398 GHz = 27.2 TFLOPS, FP16 at the FP32 rate, no FP8/INT8 tensor units.
  "m2-ultra": {
    name: "m2-ultra",
    description: "Apple M2 Ultra, 76-core GPU, 192GB unified memory",
    memoryBytes: 192 * GiB,
    memorySource:
      "sysctl hw.memsize of a 192GB machine (192 × 2^30); Metal's default GPU working set is smaller",
    flops: { fp16: 27.2 * T, bf16: 27.2 * T, fp8: 0, int8: 27.2 * T },
    bandwidth: 800 * GB,
    intraNode: { kind: "none", bandwidth: 0 },
    interNode: thunderbolt,
    host: unifiedHost,
    gpusPerNode: 1,
    unified: true,
    contextBytes: 256 * MiB,
    efficiency: APPLE,
    source: "Apple M2 Ultra press release (June 2023)",
  },
  // Apple M3 Max (40-core GPU): up to 128 GB unified memory at 400 GB/s (Apple); 40 × 128 × 2 ×
  // ~1.38 GHz ≈ 14.2 TFLOPS.
  "m3-max": {
    name: "m3-max",
    description: "Apple M3 Max, 40-core GPU, 128GB unified memory",
    memoryBytes: 128 * GiB,
    memorySource:
      "sysctl hw.memsize of a 128GB machine (128 × 2^30); Metal's default GPU working set is smaller",
    flops: { fp16: 14.2 * T, bf16: 14.2 * T, fp8: 0, int8: 14.2 * T },
    bandwidth: 400 * GB,
    intraNode: { kind: "none", bandwidth: 0 },
    interNode: thunderbolt,
    host: unifiedHost,
    gpusPerNode: 1,
    unified: true,
    contextBytes: 256 * MiB,
    efficiency: APPLE,
    source: "Apple M3 family press release (October 2023)",
  },
};

/** Other names people type for the same preset. */
const ALIASES: Readonly<Record<string, string>> = {
  "h100-80gb": "h100-sxm",
  h100: "h100-sxm",
  "h100-pcie-80gb": "h100-pcie",
  "h200-141gb": "h200",
  a100: "a100-80gb",
  "mi300x-192gb": "mi300x",
  "3090": "rtx-3090",
  "4090": "rtx-4090",
};

/** Every name `getDevice` accepts: presets, aliases and `local`. */
export const DEVICE_NAMES: readonly string[] = [...Object.keys(DEVICES), ...Object.keys(ALIASES), "local"];

/**
 * Look a device preset up by name (case-insensitive, aliases such as `h100-80gb` allowed). `local`
 * measures this machine (f32 matmul and streaming read) through roofline.ts's calibration.
 */
export function getDevice(name: string): DeviceSpec {
  const key = name.toLowerCase();
  if (key === "local") return localDevice();
  const spec = DEVICES[ALIASES[key] ?? key];
  if (spec) return spec;
  const near = closestMatch(name, DEVICE_NAMES);
  throw new ValueError(
    `unknown hardware '${name}'${near ? ` (did you mean '${near}'?)` : ""}; presets: ${Object.keys(DEVICES).join(", ")}, local, or a JSON file`,
    { hardware: name },
  );
}

function localDevice(): DeviceSpec {
  const hw = calibrateLocal();
  return {
    name: "local",
    description: "this machine (measured)",
    memoryBytes: hw.memory,
    memorySource: "roofline.ts calibrateLocal default",
    flops: { fp16: hw.flops, bf16: hw.flops, fp8: 0, int8: hw.flops },
    bandwidth: hw.bandwidth,
    intraNode: { kind: "none", bandwidth: 0 },
    interNode: { kind: "ethernet-1g", bandwidth: 0.125 * GB },
    host: unifiedHost,
    gpusPerNode: 1,
    unified: true,
    contextBytes: 0,
    efficiency: { compute: 1, memory: 1, network: 0.8 },
    source: hw.source,
  };
}

const num = (o: Record<string, unknown>, k: string, problems: string[], dflt?: number): number => {
  const v = o[k] ?? dflt;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    problems.push(`'${k}' must be a non-negative number (got ${JSON.stringify(o[k])})`);
    return 0;
  }
  return v;
};

/**
 * A device from a user's JSON object (a file's parsed contents). Required: `name`, `memoryBytes`,
 * `bandwidth` (bytes/s) and `flops` (`{ bf16, fp16?, fp8?, int8? }` FLOP/s); optional links
 * (`intraNodeBandwidth`, `interNodeBandwidth`, `hostBandwidth` bytes/s), `gpusPerNode`, `unified`,
 * `contextBytes` and `efficiency` (`{ compute, memory, network }`). Every problem is reported at once.
 */
export function deviceFromJson(json: unknown): DeviceSpec {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new ValueError(
      "a hardware file must hold one JSON object such as { name, memoryBytes, bandwidth, flops }",
    );
  const o = json as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof o.name !== "string" || o.name.length === 0) problems.push("'name' must be a non-empty string");
  const memoryBytes = num(o, "memoryBytes", problems);
  const bandwidth = num(o, "bandwidth", problems);
  const f = (typeof o.flops === "object" && o.flops !== null ? o.flops : {}) as Record<string, unknown>;
  if (typeof o.flops !== "object" || o.flops === null)
    problems.push("'flops' must be an object such as { bf16: 3e14 }");
  const bf16 = num(f, "bf16", problems);
  const flops = {
    bf16,
    fp16: num(f, "fp16", problems, bf16),
    fp8: num(f, "fp8", problems, 0),
    int8: num(f, "int8", problems, 0),
  };
  const e = (typeof o.efficiency === "object" && o.efficiency !== null ? o.efficiency : {}) as Record<
    string,
    unknown
  >;
  const efficiency = {
    compute: num(e, "compute", problems, NVIDIA_DC.compute),
    memory: num(e, "memory", problems, NVIDIA_DC.memory),
    network: num(e, "network", problems, NVIDIA_DC.network),
  };
  const gpusPerNode = num(o, "gpusPerNode", problems, 8);
  if (!Number.isInteger(gpusPerNode) || gpusPerNode < 1)
    problems.push("'gpusPerNode' must be a positive integer");
  const unified = o.unified === true;
  const spec: DeviceSpec = {
    name: String(o.name ?? ""),
    description: typeof o.description === "string" ? o.description : String(o.name ?? ""),
    memoryBytes,
    memorySource: "user file",
    flops,
    bandwidth,
    intraNode: { kind: "user", bandwidth: num(o, "intraNodeBandwidth", problems, 0) },
    interNode: { kind: "user", bandwidth: num(o, "interNodeBandwidth", problems, 12.5 * GB) },
    host: unified ? unifiedHost : { kind: "user", bandwidth: num(o, "hostBandwidth", problems, 32 * GB) },
    gpusPerNode,
    unified,
    contextBytes: num(o, "contextBytes", problems, CUDA_CONTEXT),
    efficiency,
    source: typeof o.source === "string" ? o.source : "user file",
  };
  if (problems.length > 0) throw new ValueError(`hardware file: ${problems.join("; ")}`, { problems });
  return spec;
}
