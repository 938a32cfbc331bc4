/**
 * The claims check: popular rules of thumb, each re-derived with this project's estimator and
 * measurements. A claim states what it says as numbers (a value or a range and a reading); the
 * verdict is computed by comparing those with what the code gives — nothing is typed in but the claims.
 */

import {
  claude100kClaim,
  flashLongerClaim,
  gpt3ContextClaim,
  gpt4FlashClaim,
  sqrtBlockClaim,
} from "./context.js";
import {
  attentionMatrixClaim,
  checkpointClaim,
  flashFlopsClaim,
  gpt3Claim,
  kvCache70bClaim,
  layerBytesClaim,
  moeClaim,
  mqaGqaClaim,
  trainingBytesClaim,
} from "./estimated.js";
import { gqaQualityClaim } from "./gqa-quality.js";
import { flashMemoryTimeClaim, fourBitSpeedClaim, pagedWasteClaim } from "./measured.js";
import { modelSizesClaim } from "./model-sizes.js";
import { gpt4MoeClaim, qlora65bClaim, tenXLargerClaim, williamsClaim } from "./scale.js";
import type { ClaimResult, ClaimsOptions } from "./verdict.js";

/**
 * Checks the 23 rules of thumb in order (ids 1–23) and returns one result each.
 *
 * @remarks The measured claims (2, 7, 11, 23) take a few seconds; pass `{ measure: false }` to skip
 * them (they are then `unverifiable`). The others are decided by the estimator alone, except the
 * claims about systems whose architecture is unpublished (15, 16, 20), which are `unverifiable` and
 * say what we can compute and what remains unknown.
 */
export function checkClaims(options: ClaimsOptions = {}): ClaimResult[] {
  const measure = options.measure ?? true;
  return [
    attentionMatrixClaim(),
    flashMemoryTimeClaim(measure),
    flashFlopsClaim(),
    kvCache70bClaim(),
    mqaGqaClaim(),
    layerBytesClaim(),
    fourBitSpeedClaim(measure),
    checkpointClaim(),
    moeClaim(),
    modelSizesClaim(),
    pagedWasteClaim(measure),
    trainingBytesClaim(),
    gpt3Claim(),
    gpt3ContextClaim(),
    gpt4FlashClaim(),
    claude100kClaim(),
    flashLongerClaim(),
    qlora65bClaim(),
    tenXLargerClaim(),
    gpt4MoeClaim(),
    williamsClaim(),
    sqrtBlockClaim(),
    gqaQualityClaim(measure),
  ];
}
