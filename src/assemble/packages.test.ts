import { describe, expect, it } from "vitest";
import { bookwormFacts } from "../../test/support/image-settings.js";
import { UserError } from "../errors.js";
import { analyze } from "../project/analyze.js";
import { chooseWheels, productionPackages, selectionFor } from "./packages.js";

const examples = new URL("../../examples/", import.meta.url).pathname;
const bookworm = bookwormFacts;

describe("chooseWheels", () => {
  it("takes one locked wheel per production package, with the lock's sha256", async () => {
    const project = await analyze(`${examples}cli-tool`);
    const selection = selectionFor(project, bookworm);
    const wheels = chooseWheels(productionPackages(project, selection), selection, bookworm);
    expect(wheels.map((wheel) => wheel.filename)).toEqual([
      "click-8.1.8-py3-none-any.whl",
      "PyYAML-6.0.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    ]);
    const locked = project.lock.packages
      .flatMap((pkg) => pkg.files)
      .find((file) => file.file === wheels[1]?.filename);
    expect(`sha256:${wheels[1]?.sha256}`).toBe(locked?.hash);
    expect(wheels.every((wheel) => wheel.index === "https://pypi.org/simple/")).toBe(true);
  });

  it("refuses a lock with sdist-only packages, naming each and the way through", async () => {
    const project = await analyze(`${examples}flask-uwsgi`);
    const selection = selectionFor(project, bookworm);
    let error: unknown;
    try {
      chooseWheels(productionPackages(project, selection), selection, bookworm);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UserError);
    const message = (error as UserError).message;
    expect(message).toContain("uwsgi 2.0.28: only a source distribution is locked");
    expect(message).toContain("psycopg2 2.9.10: no Linux wheel is locked");
    expect((error as UserError).hint).toContain("couplet build");
    // Both can be built once in the base and passed with --wheels: one pip wheel names them all.
    expect((error as UserError).hint).toContain(
      "pip wheel --no-deps psycopg2==2.9.10 uwsgi==2.0.28 -w /wheels",
    );
    expect((error as UserError).hint).toContain("--wheels wheels");
  });

  it("names a path dependency as one, not as a package without a fitting wheel", async () => {
    const project = await analyze(new URL("../../test/fixtures/projects/monorepo", import.meta.url).pathname);
    const selection = selectionFor(project, bookworm);
    const error = (() => {
      try {
        chooseWheels(productionPackages(project, selection), selection, bookworm);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(UserError);
    const message = (error as UserError).message;
    expect(message).toContain("mylib 0.3.0: a path dependency (libs/mylib)");
    expect(message).toContain("myapp-plugin-hello 1.0.0: a path dependency (plugins/hello)");
    expect(message).not.toContain("no locked wheel fits");
    expect((error as UserError).hint).toContain("couplet build");
    // A path dependency is the project's own code: no prebuilt wheel is offered for it.
    expect((error as UserError).hint).not.toContain("pip wheel");
  });
});
