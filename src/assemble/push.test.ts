import { describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import { parseReference } from "./push.js";

describe("parseReference", () => {
  it("splits registry, repository and tag (latest by default)", () => {
    expect(parseReference("127.0.0.1:5000/team/app:1.2")).toEqual({
      registry: "127.0.0.1:5000",
      repository: "team/app",
      tag: "1.2",
    });
    expect(parseReference("registry.example.com/app")).toEqual({
      registry: "registry.example.com",
      repository: "app",
      tag: "latest",
    });
  });
  it("refuses a reference without a registry, an upper-case name or a bad tag", () => {
    for (const bad of ["app:1.0", "team/app", "localhost:5000/App", "localhost:5000/app:-x", ""])
      expect(() => parseReference(bad), bad).toThrow(UserError);
  });
});
