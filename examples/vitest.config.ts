import { tradeoffsProject } from "@tradeoffs/vitest-config";

export default tradeoffsProject(import.meta.url);
