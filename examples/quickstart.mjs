// The root README's "Compose a configuration in code" example as plain JavaScript (no TypeScript, no
// build step of its own): `pnpm build`, then `node examples/quickstart.mjs`. It imports the packages'
// built dist/, as a consumer would; test/quickstart.test.ts runs it and checks it against the README.
import { flash } from "@tradeoffs/attention";
import { compose } from "@tradeoffs/core-tensor";
import { gqa } from "@tradeoffs/kv-cache";
import { estimate, loadSmallWeights, Transformer } from "@tradeoffs/model";

const config = compose(flash({ block: 64 }), gqa({ kvHeads: 2 }));
console.log(config.label); // Flash[block=64]+GQA[kvHeads=2]

// Run it: the trained small model, its K/V heads mean-pooled from the MHA checkpoint (as converted,
// before any uptraining: `pnpm experiment heads` shows what uptraining recovers).
const model = Transformer.create("small", config, { weights: loadSmallWeights() });
const [tokens] = model.generate([[...Buffer.from("The jury said")]], 20);
console.log(Buffer.from(tokens).toString());
model.dispose();

// Size it at scale: bytes per ledger category, parameters, FLOPs.
const e = estimate("llama2-70b", config, { kind: "infer", batch: 1, seq: 4096, generate: 0 });
console.log(e.bytes.kv, e.params.total); // 335544320 67970015232
