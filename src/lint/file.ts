// Lint (and fix) a Dockerfile on disk: refuse what is not one, read its project context, never half-write it.
import { readFile, stat } from "node:fs/promises";
import { describeFsError, InputFileError, UserError } from "../errors.js";
import { writeFiles } from "../files/write.js";
import { loadContext } from "./context.js";
import { checkInput, fixText, lintText, MAX_BYTES } from "./engine.js";
import type { Finding } from "./types.js";

export interface LintFileOptions {
  /** Apply the safe fixes in place (keeping FILE.bak) */
  fix?: boolean;
  /** The stage that becomes the image (default: the last) */
  target?: string | undefined;
  /** Read the Poetry project next to the Dockerfile (default true) */
  project?: boolean;
}

export interface LintFileResult {
  /** Findings (after fixing, those left) */
  findings: Finding[];
  /** Things to tell the user (no project context, what was fixed) */
  notes: string[];
  /** Number of fixes applied (with `fix`) */
  fixed: number;
}

export async function readDockerfile(file: string): Promise<string> {
  const info = await stat(file).catch(() => undefined);
  if (!info)
    throw new UserError("no such file", {
      location: { file },
      hint: "pass the Dockerfile's path: couplet lint path/to/Dockerfile",
    });
  if (!info.isFile()) throw new UserError("not a file", { location: { file } });
  // Refuse huge files before reading them whole.
  if (info.size > MAX_BYTES)
    throw new UserError(
      `refusing to lint a ${(info.size / 1024 / 1024).toFixed(1)} MiB file: a Dockerfile is far smaller`,
      {
        location: { file },
      },
    );
  const bytes = await readFile(file).catch((error: unknown) => {
    throw new InputFileError(`cannot read: ${describeFsError(error)}`, { location: { file } });
  });
  return checkInput(bytes, file);
}

export async function lintFile(file: string, options: LintFileOptions = {}): Promise<LintFileResult> {
  const text = await readDockerfile(file);
  const context = await loadContext(file, text, { project: options.project ?? true });
  const notes = [...context.notes];
  const lintOptions = {
    project: context.project,
    dockerignore: context.dockerignore,
    config: context.config,
    target: options.target,
  };
  if (!options.fix) return { findings: lintText(text, file, lintOptions), notes, fixed: 0 };
  const result = fixText(text, file, lintOptions);
  let backup: string | undefined;
  if (result.text !== text)
    [backup] = (await writeFiles([{ path: file, text: result.text }], { replace: true })).backups;
  const left = result.remaining.length;
  notes.push(
    `${file}: ${result.fixed ? `fixed ${result.fixed} problem(s) (original kept as ${backup})` : "nothing could be fixed automatically"}${left ? `; ${left} left that need a manual change` : ""}`,
  );
  return { findings: result.remaining, notes, fixed: result.fixed };
}
