// `couplet assemble [DIR]`: write the project's image from its lock and a base image on disk, with no engine.
import { resolve } from "node:path";
import type { Command } from "commander";
import { type AssembleOptions, assemble } from "../../assemble/assemble.js";
import { TransferDisplay } from "../../assemble/transfer-display.js";
import { CMD_FLAG, CMD_HELP, parseCmd } from "../options.js";
import { action } from "../run.js";

// The flags are the library's options by name (commander camel-cases them), plus the output format.
type AssembleFlags = Pick<
  AssembleOptions,
  "output" | "ociLayout" | "push" | "tag" | "platform" | "allowMissingLibraries" | "bytecode" | "wheels"
> & {
  base: string[];
  /** As init takes it: parsed into the words AssembleOptions.cmd holds */
  cmd?: string;
  json?: boolean;
};

export function register(program: Command): void {
  program
    .command("assemble")
    .description("assemble the image from poetry.lock and a base image, without a container engine")
    .argument("[dir]", "project folder", ".")
    .requiredOption(
      "--base <ref>",
      "base image: a registry reference (host[:port]/name:tag or @sha256:…; python:3.12-slim is Docker Hub's), or a docker-archive, OCI archive or OCI layout folder; repeat as --base linux/ARCH=REF for one per platform",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option(
      "--output <file>",
      "write a docker-archive (docker load, podman load, buildah pull docker-archive:)",
    )
    .option("--oci-layout <dir>", "write an OCI image layout folder")
    .option(
      "--push <ref>",
      "push to a registry: host[:port]/name[:tag] (plain HTTP on loopback only; credentials from docker/podman login or COUPLET_REGISTRY_USERNAME/PASSWORD)",
    )
    .option("--tag <name>", "image name in the outputs (default couplet/<project>:latest)")
    .option(
      "--platform <list>",
      "target platforms, e.g. linux/amd64,linux/arm64: one image each and an index over them (--output then writes an OCI archive: a docker-archive holds one image)",
    )
    .option(
      "--allow-missing-libraries",
      "write the image even when the base lacks what the code needs at run time: a shared library a package links to, or a Debian package the plan installs at run time ([tool.couplet.native] runtime, or couplet's table: programs run by subprocess, libraries loaded by ctypes), read from the base's dpkg database; each is printed as a warning and listed in --json. By default assemble refuses before writing anything and prints the buildah commands that make a base with them",
    )
    .option(
      "--no-bytecode",
      "leave out the .pyc (compiled, when on, with the python3.X on PATH of the base's version: unchecked-hash for the venv, checked-hash for the code)",
    )
    .option(
      "--wheels <dir>",
      "wheels built once for packages the lock has no fitting wheel for (e.g. an sdist only), by pip wheel in a container of the base; each must match the lock's name and version and fit the base, and is recorded by its own sha256",
    )
    .option(CMD_FLAG, `${CMD_HELP}; as couplet init's --cmd, it replaces the command init would choose`)
    .option("--json", "print the report (digests, layers, command, packages, bytecode) as JSON")
    .action(
      action(async (dir: string, flags: AssembleFlags) => {
        const cmd = flags.cmd !== undefined ? parseCmd(flags.cmd) : undefined;
        const transfers = new TransferDisplay(process.stderr);
        const report = await assemble(resolve(dir), {
          base: flags.base,
          ...(cmd ? { cmd } : {}),
          ...(flags.output ? { output: resolve(flags.output) } : {}),
          ...(flags.ociLayout ? { ociLayout: resolve(flags.ociLayout) } : {}),
          ...(flags.tag ? { tag: flags.tag } : {}),
          ...(flags.push ? { push: flags.push } : {}),
          ...(flags.platform ? { platform: flags.platform } : {}),
          ...(flags.allowMissingLibraries ? { allowMissingLibraries: true } : {}),
          ...(flags.wheels ? { wheels: resolve(flags.wheels) } : {}),
          bytecode: flags.bytecode !== false,
          onProgress: (line) => {
            transfers.clear();
            process.stderr.write(`${line}\n`);
          },
          onTransfer: (transfer) => transfers.update(transfer),
        }).finally(() => transfers.clear());
        if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else
          process.stdout.write(
            `${report.tag} ${report.images.length > 1 ? report.digest : report.configDigest}\n`,
          );
        return 0;
      }),
    );
}
