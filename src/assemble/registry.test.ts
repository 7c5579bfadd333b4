import { describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import { parsePushReference } from "./push.js";
import { apiRoot, parseChallenge, parseReference } from "./registry.js";

describe("parseReference", () => {
  it("splits registry, repository and tag (latest by default)", () => {
    expect(parseReference("127.0.0.1:5000/team/app:1.2")).toEqual({
      registry: "127.0.0.1:5000",
      repository: "team/app",
      tag: "1.2",
      digest: undefined,
    });
    expect(parseReference("registry.example.com/app")).toMatchObject({
      registry: "registry.example.com",
      repository: "app",
      tag: "latest",
    });
  });
  it("takes a digest, with or without a tag", () => {
    const digest = `sha256:${"ab".repeat(32)}`;
    expect(parseReference(`localhost:5000/python@${digest}`)).toMatchObject({ tag: undefined, digest });
    expect(parseReference(`localhost:5000/python:3.11@${digest}`)).toMatchObject({ tag: "3.11", digest });
  });
  it("reads a name without a registry as Docker Hub's only where asked (a base, not a push target)", () => {
    expect(parseReference("python:3.12-slim", "--base", true)).toMatchObject({
      registry: "docker.io",
      repository: "library/python",
      tag: "3.12-slim",
    });
    expect(parseReference("bitnami/python", "--base", true)).toMatchObject({
      registry: "docker.io",
      repository: "bitnami/python",
    });
    expect(() => parseReference("python:3.12-slim")).toThrow(/name the registry/);
  });
  it("refuses a reference without a registry, an upper-case name, a bad tag or digest", () => {
    for (const bad of [
      "app:1.0",
      "team/app",
      "localhost:5000/App",
      "localhost:5000/app:-x",
      "localhost:5000/app@sha256:12",
      "",
    ])
      expect(() => parseReference(bad), bad).toThrow(UserError);
  });
  it("refuses a digest as a push target", () => {
    expect(() => parsePushReference(`localhost:5000/app@sha256:${"0".repeat(64)}`)).toThrow(/give a tag/);
  });
});

describe("apiRoot", () => {
  it("is plain HTTP on loopback only, and Docker Hub's API host for docker.io", () => {
    expect(apiRoot("127.0.0.1:5000").href).toBe("http://127.0.0.1:5000/v2/");
    expect(apiRoot("localhost:5000").href).toBe("http://localhost:5000/v2/");
    expect(apiRoot("registry.example.com").href).toBe("https://registry.example.com/v2/");
    expect(apiRoot("docker.io").href).toBe("https://registry-1.docker.io/v2/");
  });
});

describe("parseChallenge", () => {
  // Captured from Debian's docker-registry 2.8.2 (token auth) answering a cross-repository mount POST.
  it("reads docker-registry's Bearer challenge, whose scope holds commas and a space", () => {
    expect(
      parseChallenge(
        'Bearer realm="http://127.0.0.1:45999/token",service="couplet-test-registry",scope="repository:team/app:push,pull repository:python:pull"',
      ),
    ).toEqual({
      scheme: "bearer",
      params: {
        realm: "http://127.0.0.1:45999/token",
        service: "couplet-test-registry",
        scope: "repository:team/app:push,pull repository:python:pull",
      },
    });
  });
  it("reads a Basic challenge (docker-registry with htpasswd) and unquoted, escaped and spaced values", () => {
    expect(parseChallenge('Basic realm="couplet-test"')).toEqual({
      scheme: "basic",
      params: { realm: "couplet-test" },
    });
    expect(parseChallenge('Bearer Realm = "a\\"b" , error=invalid_token')).toEqual({
      scheme: "bearer",
      params: { realm: 'a"b', error: "invalid_token" },
    });
  });
  it("gives nothing for an empty header", () => {
    expect(parseChallenge("")).toBeUndefined();
  });
});
