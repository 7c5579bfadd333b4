// The registry of rules, in id order: the engine runs these; `couplet rules` lists them.
import type { Rule } from "../types.js";
import { rule as CPL001 } from "./CPL001.js";
import { rule as CPL002 } from "./CPL002.js";
import { rule as CPL003 } from "./CPL003.js";
import { rule as CPL004 } from "./CPL004.js";
import { rule as CPL005 } from "./CPL005.js";
import { rule as CPL006 } from "./CPL006.js";
import { rule as CPL007 } from "./CPL007.js";
import { rule as CPL008 } from "./CPL008.js";
import { rule as CPL009 } from "./CPL009.js";
import { rule as CPL010 } from "./CPL010.js";
import { rule as CPL011 } from "./CPL011.js";
import { rule as CPL012 } from "./CPL012.js";
import { rule as CPL013 } from "./CPL013.js";
import { rule as CPL014 } from "./CPL014.js";
import { rule as CPL015 } from "./CPL015.js";
import { rule as CPL016 } from "./CPL016.js";
import { rule as CPL017 } from "./CPL017.js";
import { rule as CPL018 } from "./CPL018.js";
import { rule as CPL019 } from "./CPL019.js";
import { rule as CPL020 } from "./CPL020.js";
import { rule as CPL021 } from "./CPL021.js";
import { rule as CPL022 } from "./CPL022.js";
import { rule as CPL023 } from "./CPL023.js";
import { rule as CPL024 } from "./CPL024.js";
import { rule as CPL025 } from "./CPL025.js";
import { rule as CPL026 } from "./CPL026.js";
import { rule as CPL027 } from "./CPL027.js";

export const RULES: readonly Rule[] = [
  CPL001,
  CPL002,
  CPL003,
  CPL004,
  CPL005,
  CPL006,
  CPL007,
  CPL008,
  CPL009,
  CPL010,
  CPL011,
  CPL012,
  CPL013,
  CPL014,
  CPL015,
  CPL016,
  CPL017,
  CPL018,
  CPL019,
  CPL020,
  CPL021,
  CPL022,
  CPL023,
  CPL024,
  CPL025,
  CPL026,
  CPL027,
];

export function ruleById(id: string): Rule | undefined {
  return RULES.find((r) => r.meta.id === id.toUpperCase());
}
