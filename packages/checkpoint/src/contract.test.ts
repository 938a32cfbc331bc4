import { checkpointContract, strategyContract } from "@tradeoffs/strategy-testkit";
import { none } from "./none.js";
import { checkpointStrategies } from "./registry.js";

strategyContract([none()], checkpointStrategies, "checkpoint");
checkpointContract(none());
