import { tradeoffsProject } from "./index.js";

export default tradeoffsProject(import.meta.url);
