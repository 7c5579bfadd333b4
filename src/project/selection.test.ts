// Production packages and build needs from real locks (made by real Poetry) on several platforms and interpreters.
import { describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import { analyze } from "./analyze.js";
import { DEFAULT_PLATFORM, parsePlatform } from "./platform.js";
import {
  buildNeed,
  developmentOnlyPackages,
  productionPackages,
  productionSelection,
  type Selection,
} from "./selection.js";
import type { LockedPackage, Project } from "./types.js";

const root = new URL("../..", import.meta.url).pathname;
const load = (dir: string) => analyze(`${root}${dir}`);

function withConfig(project: Project, config: Partial<Project["couplet"]>): Project {
  return { ...project, couplet: { ...project.couplet, ...config } };
}

function locked(project: Project, name: string): LockedPackage {
  const pkg = project.lock.packages.find((p) => p.name === name);
  if (!pkg) throw new Error(`${name} is not in ${project.lock.path}`);
  return pkg;
}

const names = (packages: LockedPackage[]) => packages.map((p) => p.name).sort();
const arm64 = parsePlatform("linux/arm64");
const musl = parsePlatform("linux/amd64-musl");

describe("production selection", () => {
  it("is main plus [tool.couplet] with, and extras from [tool.couplet] extras", async () => {
    const project = await load("test/fixtures/projects/poetry1-groups");
    expect(productionSelection(project)).toEqual({
      groups: ["main"],
      extras: [],
      python: undefined,
      platform: DEFAULT_PLATFORM,
    });
    const docs = productionSelection(withConfig(project, { with: ["docs"] }), { python: "3.12" });
    expect(docs.groups).toEqual(["main", "docs"]);
    expect(docs.python).toBe("3.12");
  });

  it("refuses groups and extras pyproject.toml does not declare, naming the file", async () => {
    const project = await load("test/fixtures/projects/poetry1-groups");
    expect(() => productionSelection(withConfig(project, { with: ["doc"] }))).toThrow(
      /with names the group "doc".*/,
    );
    try {
      productionSelection(withConfig(project, { extras: ["yaml"] }));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).location?.file).toBe(project.pyprojectPath);
      expect((error as UserError).hint).toBe("declared extras: none");
    }
  });

  it("takes an optional group's packages only when it is selected; the other groups' are development-only", async () => {
    const project = await load("test/fixtures/projects/poetry1-groups");
    const main = productionSelection(project);
    const docs = productionSelection(withConfig(project, { with: ["docs"] }));
    expect(names(productionPackages(project, main))).not.toContain("mkdocs");
    expect(names(productionPackages(project, docs))).toEqual(
      expect.arrayContaining(["flask", "mkdocs", "watchdog"]),
    );
    expect(names(developmentOnlyPackages(project, main))).toEqual(
      expect.arrayContaining(["black", "mkdocs", "pytest"]),
    );
    expect(names(developmentOnlyPackages(project, docs))).not.toContain("mkdocs");
    expect(names(developmentOnlyPackages(project, docs))).toEqual(
      expect.arrayContaining(["black", "pytest"]),
    );
  });

  it("takes a selected extra's packages and their dependencies", async () => {
    const project = await load("test/fixtures/projects/pep621");
    const plain = productionSelection(project);
    const yaml = productionSelection(withConfig(project, { extras: ["yaml"] }));
    expect(names(productionPackages(project, plain))).not.toContain("pyyaml");
    expect(names(productionPackages(project, yaml))).toContain("pyyaml");
  });

  it("evaluates markers for the selection's python and platform", async () => {
    const project = await load("test/fixtures/projects/large");
    const selection = productionSelection(project, { python: "3.12" });
    const production = names(productionPackages(project, selection));
    // pywinpty is Windows-only: never in a Linux image, whatever the interpreter.
    expect(names(project.lock.packages)).toContain("pywinpty");
    expect(production).not.toContain("pywinpty");
    expect(names(productionPackages(project, { ...selection, python: undefined }))).not.toContain("pywinpty");
  });
});

describe("build need", () => {
  it("installs a locked x86_64 wheel on amd64 and compiles on arm64 and musl (psycopg2-binary 2.8.6)", async () => {
    const project = await load("test/fixtures/projects/amd64-only-wheels");
    const pkg = locked(project, "psycopg2-binary");
    const on = (platform: Selection["platform"], python?: string) =>
      buildNeed(pkg, productionSelection(project, { python, platform }));
    expect(on(DEFAULT_PLATFORM, "3.9")).toEqual({ kind: "wheel" });
    expect(on(DEFAULT_PLATFORM)).toEqual({ kind: "wheel" });
    expect(on(arm64, "3.9")).toEqual({
      kind: "compile",
      cause: "no-wheel-for-platform",
      reason: "no linux/arm64 wheel is locked, only a source distribution",
    });
    expect(on({ ...arm64, glibc: "2.36" }, "3.9")).toMatchObject({
      reason: "no linux/arm64 (glibc 2.36) wheel is locked, only a source distribution",
    });
    expect(on(musl, "3.9")).toMatchObject({ kind: "compile", cause: "no-wheel-for-platform" });
    // 2.8.6 predates CPython 3.10: amd64 has wheels, but not for that interpreter.
    expect(on(DEFAULT_PLATFORM, "3.10")).toEqual({
      kind: "compile",
      cause: "no-wheel-for-python",
      reason: "no wheel for CPython 3.10",
    });
  });

  it("tells musl from glibc by the lock's wheel names (brotlicffi has manylinux wheels, no musllinux ones)", async () => {
    const project = await load("test/fixtures/projects/large");
    const pkg = locked(project, "brotlicffi");
    const selection = productionSelection(project, { python: "3.12" });
    expect(buildNeed(pkg, selection).kind).toBe("wheel");
    expect(buildNeed(pkg, { ...selection, platform: arm64 }).kind).toBe("wheel");
    expect(buildNeed(pkg, { ...selection, platform: musl })).toMatchObject({
      kind: "compile",
      cause: "no-wheel-for-platform",
      reason: "no linux/amd64-musl wheel is locked, only a source distribution",
    });
  });

  it("says when only an sdist is locked, and when the wheels are for other systems only", async () => {
    const project = await load("examples/flask-uwsgi");
    const selection = productionSelection(project, { python: "3.11" });
    expect(buildNeed(locked(project, "uwsgi"), selection)).toEqual({
      kind: "compile",
      cause: "sdist-only",
      reason: "only a source distribution is locked",
    });
    // psycopg2 locks Windows wheels and its sdist.
    expect(buildNeed(locked(project, "psycopg2"), selection)).toEqual({
      kind: "compile",
      cause: "no-wheel-for-platform",
      reason: "no Linux wheel is locked, only a source distribution",
    });
  });
});
