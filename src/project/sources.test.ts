import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import { analyze } from "./analyze.js";
import { lockedIndexes, poetryCredentialEnv, printableUrl, sshGitSources, sshHost } from "./sources.js";
import type { LockedPackage } from "./types.js";

const root = new URL("../..", import.meta.url).pathname;

describe("Poetry's credential variables for a source", () => {
  it("upper-cases the name and turns - and . into _", () => {
    expect(poetryCredentialEnv("private")).toEqual({
      username: "POETRY_HTTP_BASIC_PRIVATE_USERNAME",
      password: "POETRY_HTTP_BASIC_PRIVATE_PASSWORD",
    });
    expect(poetryCredentialEnv("my-corp.index_2").username).toBe(
      "POETRY_HTTP_BASIC_MY_CORP_INDEX_2_USERNAME",
    );
  });

  it("refuses a name no shell variable can carry", () => {
    for (const name of ["my repo", "a$b", "", "-x", 'q"'])
      expect(() => poetryCredentialEnv(name), name).toThrow(UserError);
  });
});

describe("the indexes a lock takes packages from", () => {
  it("finds the private source of a lock made by Poetry 2.2.1 against a password-protected index", async () => {
    const project = await analyze(join(root, "test/fixtures/projects/private-index"));
    expect(lockedIndexes(project.lock.packages)).toEqual([
      {
        name: "private",
        url: "http://127.0.0.1:38417/simple",
        packages: ["couplet-private-greeting"],
        usernameEnv: "POETRY_HTTP_BASIC_PRIVATE_USERNAME",
        passwordEnv: "POETRY_HTTP_BASIC_PRIVATE_PASSWORD",
      },
    ]);
  });

  it("leaves out a source on PyPI's own simple index (Poetry 1.2's workaround): it needs no credentials", async () => {
    const project = await analyze(join(root, "test/fixtures/projects/poetry12-groups"));
    expect(project.lock.packages.some((p) => p.source?.type === "legacy")).toBe(true);
    expect(lockedIndexes(project.lock.packages)).toEqual([]);
  });

  it("finds none in a lock that takes everything from PyPI", async () => {
    const project = await analyze(join(root, "examples/flask-uwsgi"));
    expect(lockedIndexes(project.lock.packages)).toEqual([]);
    expect(sshGitSources(project.lock.packages)).toEqual([]);
  });
});

describe("git over SSH", () => {
  it("reads the host of ssh://, git+ssh:// and scp-like URLs, and nothing from others", () => {
    expect(sshHost("ssh://git@github.com/org/repo.git")).toBe("github.com");
    expect(sshHost("git+ssh://git@gitlab.example:2222/org/repo.git")).toBe("gitlab.example");
    expect(sshHost("git@github.com:org/repo.git")).toBe("github.com");
    expect(sshHost("ssh://[::1]:22/repo")).toBe("[::1]");
    expect(sshHost("https://github.com/org/repo.git")).toBeUndefined();
    expect(sshHost("git+https://github.com/org/repo.git")).toBeUndefined();
    expect(sshHost("file:///srv/repo")).toBeUndefined();
  });

  it("lists the git packages whose url is SSH", () => {
    const pkg = (name: string, url: string): LockedPackage => ({
      name,
      displayName: name,
      version: "1.0",
      groups: ["main"],
      optional: false,
      markers: undefined,
      pythonVersions: undefined,
      files: [],
      dependencies: [],
      extras: {},
      source: { type: "git", url, reference: "main" },
      develop: false,
    });
    expect(
      sshGitSources([pkg("b", "git@github.com:org/b.git"), pkg("a", "https://github.com/org/a.git")]),
    ).toEqual([{ package: "b", url: "git@github.com:org/b.git", host: "github.com" }]);
  });
});

describe("printableUrl", () => {
  it("leaves out a user name and token written inside an index URL, and nothing else", () => {
    expect(printableUrl("https://user:tok3n@pkgs.example.com/simple/")).toBe(
      "https://pkgs.example.com/simple/",
    );
    expect(printableUrl("https://__token__@pkgs.example.com/simple/")).toBe(
      "https://pkgs.example.com/simple/",
    );
    expect(printableUrl("http://127.0.0.1:38417/simple/")).toBe("http://127.0.0.1:38417/simple/");
  });
});
