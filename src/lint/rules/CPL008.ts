// CPL008: Poetry's or pip's download cache left in a layer of the image.

import {
  commandEnv,
  configSet,
  falsy,
  hasOption,
  inProject,
  mounted,
  pipCacheDir,
  pipInstall,
  poetryCacheDir,
  poetryCall,
  removes,
  truthy,
} from "../facts.js";
import { chain, runs } from "../model.js";
import { programName } from "../shell.js";
import type { Report, Rule } from "../types.js";

const APT_DIRS = ["/var/cache/apt", "/var/lib/apt"];

export const rule: Rule = {
  meta: {
    id: "CPL008",
    name: "package-cache-in-layer",
    defaultSeverity: "warning",
    description:
      "Poetry's or pip's cache is left in a layer (not removed in the same RUN, no --no-cache-dir, no cache mount)",
    fixable: true,
  },
  check({ model, report }) {
    if (!model.target) return;
    for (const stage of chain(model.target)) {
      for (const step of runs(stage.steps)) {
        // The `mount=` typo has its own rule (CPL009) with a clearer message.
        if (step.commands.some((c) => c.assignments.some((a) => a.name === "mount"))) continue;
        // A cache mount aimed elsewhere is CPL011's finding.
        if (
          step.mounts.some(
            (m) => m.type === "cache" && m.target && !APT_DIRS.some((d) => m.target?.startsWith(d)),
          )
        )
          continue;
        const clearsPoetry = step.commands.some((c) => {
          const call = poetryCall(c);
          return call?.subcommand === "cache" && call.args[0] === "clear";
        });
        for (const command of step.commands) {
          const env = commandEnv(step, command);
          const pip = pipInstall(command, env);
          if (pip) {
            const args = pip.args.map((a) => a.value);
            const off =
              hasOption(args, "--no-cache-dir") ||
              args.includes("--no-cache") ||
              env.get("PIP_NO_CACHE_DIR") !== undefined;
            const dir = pipCacheDir(env, step.user);
            if (off || mounted(step, dir) || removes(step, dir, env)) continue;
            const install = pip.command.argv.find((w) => w.value === "install");
            const r: Report = {
              range: model.rangeOf(command.start, command.end),
              message: `pip keeps its download cache (${dir}) in this layer: it ships in the image; add --no-cache-dir (or a cache mount)`,
            };
            if (install && !step.heredoc)
              r.fix = [{ start: install.end, end: install.end, text: " --no-cache-dir" }];
            report(r);
            continue;
          }
          const call = poetryCall(command);
          if (!call || (call.subcommand !== "install" && call.subcommand !== "sync")) continue;
          if (call.args.includes("--no-cache")) continue;
          const dir = poetryCacheDir(env, step.user);
          if (clearsPoetry || mounted(step, dir) || removes(step, dir, env)) continue;
          // Removing the cache dir is only safe when the venv does not live inside it (Poetry's default location).
          const venvElsewhere =
            env.get("VIRTUAL_ENV") !== undefined ||
            inProject(step, command) ||
            falsy(env.get("POETRY_VIRTUALENVS_CREATE")) ||
            configSet(stage, "virtualenvs.create", step, command).some((v) => falsy(v)) ||
            truthy(env.get("POETRY_VIRTUALENVS_PATH") ? "1" : undefined);
          const r: Report = {
            range: model.rangeOf(command.start, command.end),
            message: `\`poetry ${call.subcommand}\` leaves Poetry's cache (${dir}) in this layer, often as large as the venv itself; remove it in the same RUN (&& rm -rf ${dir}) or use RUN --mount=type=cache,target=${dir}`,
          };
          if (venvElsewhere && !step.heredoc && programName(command) === "poetry")
            r.fix = [{ start: command.end, end: command.end, text: ` && rm -rf ${dir}` }];
          report(r);
        }
      }
    }
  },
};
