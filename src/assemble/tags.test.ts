import { describe, expect, it } from "vitest";
import { analyze } from "../project/analyze.js";
import { bestWheel, parseWheelName, supportedTags, type TagTarget } from "./tags.js";

const bookworm: TagTarget = {
  major: 3,
  minor: 11,
  abi: "cp311",
  machine: "x86_64",
  glibc: { major: 2, minor: 36 },
};
const examples = new URL("../../examples/", import.meta.url).pathname;

describe("parseWheelName", () => {
  it("expands compressed tag sets and reads a build number", () => {
    expect(parseWheelName("PyYAML-6.0.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")).toEqual(
      {
        name: "PyYAML",
        version: "6.0.2",
        build: 0,
        tags: ["cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64"],
      },
    );
    expect(parseWheelName("six-1.17.0-1-py2.py3-none-any.whl")?.tags).toEqual([
      "py2-none-any",
      "py3-none-any",
    ]);
    expect(parseWheelName("six-1.17.0-1-py2.py3-none-any.whl")?.build).toBe(1);
    expect(parseWheelName("uWSGI-2.0.28.tar.gz")).toBeUndefined();
  });
});

describe("supportedTags", () => {
  const tags = supportedTags(bookworm);
  it("prefers the interpreter's own ABI, then abi3, then pure Python", () => {
    const at = (tag: string) => tags.indexOf(tag);
    expect(at("cp311-cp311-manylinux_2_36_x86_64")).toBe(0);
    expect(at("cp311-cp311-manylinux_2_17_x86_64")).toBeLessThan(at("cp311-abi3-manylinux_2_36_x86_64"));
    expect(at("cp311-abi3-manylinux_2_5_x86_64")).toBeLessThan(at("cp310-abi3-manylinux_2_36_x86_64"));
    expect(at("cp38-abi3-manylinux_2_17_x86_64")).toBeLessThan(at("py3-none-any"));
    expect(at("cp311-none-any")).toBeLessThan(at("py3-none-any"));
    expect(at("py311-none-any")).toBeLessThan(at("py3-none-any"));
  });
  it("accepts no wheel built for a newer glibc, another interpreter or another machine", () => {
    expect(tags).not.toContain("cp311-cp311-manylinux_2_37_x86_64");
    expect(tags).not.toContain("cp312-cp312-manylinux_2_17_x86_64");
    expect(tags).not.toContain("cp312-abi3-manylinux_2_17_x86_64");
    expect(tags.some((tag) => tag.includes("aarch64") || tag.includes("musllinux"))).toBe(false);
  });
  it("names manylinux1 and manylinux2010 only for x86", () => {
    expect(tags).toContain("cp311-cp311-manylinux1_x86_64");
    const arm = supportedTags({ ...bookworm, machine: "aarch64" });
    expect(arm).toContain("cp311-cp311-manylinux2014_aarch64");
    expect(arm).not.toContain("cp311-cp311-manylinux1_aarch64");
  });
});

describe("bestWheel on a lock made by Poetry", async () => {
  const project = await analyze(`${examples}cli-tool`);
  const pyyaml = project.lock.packages.find((pkg) => pkg.name === "pyyaml");
  if (!pyyaml) throw new Error("cli-tool's lock has no pyyaml");
  it("picks the manylinux wheel for this interpreter and machine", () => {
    expect(bestWheel(pyyaml.files, supportedTags(bookworm))?.file.file).toBe(
      "PyYAML-6.0.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    );
    expect(bestWheel(pyyaml.files, supportedTags({ ...bookworm, machine: "aarch64" }))?.file.file).toBe(
      "PyYAML-6.0.2-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
    );
  });
  it("finds none for an interpreter the lock has no wheel for, and never picks the sdist", () => {
    expect(bestWheel(pyyaml.files, supportedTags({ ...bookworm, minor: 14, abi: "cp314" }))).toBeUndefined();
    expect(
      bestWheel(pyyaml.files, supportedTags({ ...bookworm, glibc: { major: 2, minor: 16 } })),
    ).toBeUndefined();
  });
});
