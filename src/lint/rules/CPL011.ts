// CPL011: a cache mount whose target is not the cache the command actually uses.

import {
  commandEnv,
  hasOption,
  mounted,
  pipCacheDir,
  pipInstall,
  poetryCacheDir,
  poetryCall,
} from "../facts.js";
import { runs } from "../model.js";
import type { Rule } from "../types.js";

const APT_DIRS = ["/var/cache/apt", "/var/lib/apt"];

export const rule: Rule = {
  meta: {
    id: "CPL011",
    name: "cache-mount-wrong-target",
    defaultSeverity: "warning",
    description: "A cache mount's target is not the cache directory the command uses",
    fixable: false,
  },
  check({ model, report }) {
    for (const stage of model.stages) {
      for (const step of runs(stage.steps)) {
        const mounts = step.mounts.filter(
          (m) => m.type === "cache" && m.target && !APT_DIRS.some((d) => m.target?.startsWith(d)),
        );
        if (!mounts.length) continue;
        const flag = step.instruction.getFlags().find((f) => f.getName() === "mount");
        const range = flag?.getRange() ?? step.instruction.getRange();
        const targets = mounts.map((m) => m.target).join(", ");
        for (const command of step.commands) {
          const env = commandEnv(step, command);
          const pip = pipInstall(command, env);
          if (pip) {
            const args = pip.args.map((a) => a.value);
            if (hasOption(args, "--no-cache-dir") || args.includes("--no-cache")) continue;
            const dir = pipCacheDir(env, step.user);
            if (!mounted(step, dir))
              report({
                range,
                message: `the cache mount (${targets}) is not where pip caches (${dir}): pip's cache is written into the layer and the mount stays empty; mount ${dir}`,
              });
            continue;
          }
          const call = poetryCall(command);
          if (!call || (call.subcommand !== "install" && call.subcommand !== "sync")) continue;
          const dir = poetryCacheDir(env, step.user);
          if (!mounted(step, dir))
            report({
              range,
              message: `the cache mount (${targets}) is not Poetry's cache (${dir}${env.get("POETRY_CACHE_DIR") !== undefined ? ", from POETRY_CACHE_DIR" : ""}): Poetry writes its cache into the layer and the mount stays empty; mount ${dir}`,
            });
        }
      }
    }
  },
};
