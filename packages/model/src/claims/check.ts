/**
 * The claims check: popular rules of thumb, each re-derived with this project's estimator and
 * measurements. A claim states what it says as numbers (a value or a range and a reading); the
 * verdict is computed by comparing those with what the code gives — nothing is typed in but the claims.
 */
import {
  attentionMatrixClaim,
  checkpointClaim,
  flashFlopsClaim,
  gpt3Claim,
  kvCache70bClaim,
  layerBytesClaim,
  modelSizesClaim,
  moeClaim,
  mqaGqaClaim,
  trainingBytesClaim,
} from "./estimated.js";
import { flashMemoryTimeClaim, fourBitSpeedClaim, pagedWasteClaim } from "./measured.js";
import type { ClaimResult, ClaimsOptions } from "./verdict.js";

/**
 * Checks the 13 rules of thumb in order (ids 1–13) and returns one result each.
 *
 * @remarks The measured claims (2, 7, 11) take a few seconds; pass `{ measure: false }` to skip them
 * (they are then `unverifiable`). The others are decided by the estimator alone.
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
  ];
}
