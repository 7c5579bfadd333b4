// Which installed distributions inspect calls development-only, judged by the project's production selection.
import { describe, expect, it } from "vitest";
import { analyze } from "../project/analyze.js";
import type { Project } from "../project/types.js";
import { findingsFor } from "./findings.js";
import { FsTree } from "./fs-tree.js";
import { productionPackagesFor } from "./production.js";

const project = await analyze(
  new URL("../../test/fixtures/projects/poetry1-groups", import.meta.url).pathname,
);
const site = "/app/.venv/lib/python3.12/site-packages";

/** A venv holding these distributions (name-version), as `poetry install` leaves it. */
function venv(dists: string[]): FsTree {
  const tree = new FsTree();
  tree.set("/app/.venv/pyvenv.cfg", "file", 60, "", 1);
  for (const dist of dists) {
    const module = dist.split("-")[0] as string;
    tree.set(`${site}/${module}/__init__.py`, "file", 1000, "", 1);
    tree.set(`${site}/${dist}.dist-info/METADATA`, "file", 100, "", 1);
  }
  return tree;
}

function devDependencies(p: Project, dists: string[]): string[] {
  const production = productionPackagesFor(p, "amd64");
  return findingsFor({ tree: venv(dists), records: new Map(), env: {}, production, top: 5 })
    .filter((f) => f.kind === "dev-dependency")
    .map((f) => f.path.split("/").at(-1) as string)
    .sort();
}

describe("development-only packages in an image", () => {
  const installed = ["flask-3.1.3", "mkdocs-1.6.1", "pytest-8.4.2", "black-24.10.0"];

  it("names the packages only non-production groups take", () => {
    expect(devDependencies(project, installed)).toEqual([
      "black-24.10.0.dist-info",
      "mkdocs-1.6.1.dist-info",
      "pytest-8.4.2.dist-info",
    ]);
  });

  it("leaves a group alone that [tool.couplet] with puts in production", () => {
    const withDocs = { ...project, couplet: { ...project.couplet, with: ["docs"] } };
    expect(devDependencies(withDocs, installed)).toEqual([
      "black-24.10.0.dist-info",
      "pytest-8.4.2.dist-info",
    ]);
  });
});
