// The output formats of `couplet lint`, by name.
import type { Finding } from "../types.js";
import { formatJson } from "./json.js";
import { formatSarif } from "./sarif.js";
import { formatStylish } from "./stylish.js";

export const FORMATS = ["stylish", "json", "sarif"] as const;
export type FormatName = (typeof FORMATS)[number];

export const FORMATTERS: Record<FormatName, (findings: Finding[]) => string> = {
  stylish: formatStylish,
  json: formatJson,
  sarif: formatSarif,
};
