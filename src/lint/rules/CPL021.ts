// CPL021: ADD used where COPY is meant.
import { copies } from "../model.js";
import type { Report, Rule } from "../types.js";

const REMOTE = /^(https?:\/\/|git@|git:\/\/|ssh:\/\/)/;
const ARCHIVE = /\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst|tzst|gz|bz2|xz)$/i;
const ADD_ONLY_FLAGS = new Set(["checksum", "keep-git-dir", "unpack"]);

export const rule: Rule = {
  meta: {
    id: "CPL021",
    name: "add-instead-of-copy",
    defaultSeverity: "warning",
    description: "ADD is used to copy local files (COPY is meant)",
    fixable: true,
  },
  check({ model, report }) {
    for (const stage of model.stages) {
      for (const copy of copies(stage.steps)) {
        if (copy.keyword !== "ADD") continue;
        if (copy.sources.some((s) => REMOTE.test(s) || ARCHIVE.test(s))) continue;
        const flags = (copy.instruction as unknown as { getFlags(): { getName(): string }[] }).getFlags();
        const r: Report = {
          range: copy.instruction.getInstructionRange(),
          message:
            "ADD copies local files like COPY but also unpacks archives and fetches URLs, so what lands in the image depends on the file's content; use COPY",
        };
        if (!flags.some((f) => ADD_ONLY_FLAGS.has(f.getName()))) {
          const k = copy.instruction.getInstructionRange();
          r.fix = [{ start: model.offsetAt(k.start), end: model.offsetAt(k.end), text: "COPY" }];
        }
        report(r);
      }
    }
  },
};
