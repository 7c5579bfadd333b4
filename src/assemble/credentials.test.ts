import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../errors.js";
import { credentialsFor, fromAuthFile } from "./credentials.js";

const b64 = (text: string) => Buffer.from(text).toString("base64");

describe("fromAuthFile", () => {
  it("finds an entry by host, by URL, and Docker Hub's legacy key", () => {
    const text = JSON.stringify({
      auths: {
        "registry.example.com": { auth: b64("a:pw:with:colons") },
        "https://127.0.0.1:5000/v1/": { auth: b64("b:x") },
        "https://index.docker.io/v1/": { auth: b64("hub:y") },
      },
    });
    expect(fromAuthFile("f", text, "registry.example.com")).toEqual({
      username: "a",
      password: "pw:with:colons",
      source: "f",
    });
    expect(fromAuthFile("f", text, "127.0.0.1:5000")?.username).toBe("b");
    expect(fromAuthFile("f", text, "docker.io")?.username).toBe("hub");
    expect(fromAuthFile("f", text, "other.example")).toBeUndefined();
  });
  it("skips an entry without auth (a credential helper's) and refuses a broken one in one line", () => {
    expect(
      fromAuthFile("f", JSON.stringify({ auths: { h: {} }, credsStore: "desktop" }), "h"),
    ).toBeUndefined();
    expect(() => fromAuthFile("f", JSON.stringify({ auths: { h: { auth: b64("nocolon") } } }), "h")).toThrow(
      UserError,
    );
    expect(() => fromAuthFile("f", "{", "h")).toThrow(/not valid JSON/);
  });
});

describe("credentialsFor", () => {
  it("prefers the auth file's entry for the host; the environment's credentials only for the registries COUPLET_REGISTRY names", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-creds-"));
    const file = path.join(dir, "auth.json");
    writeFileSync(file, JSON.stringify({ auths: { "r.example": { auth: b64("file:1") } } }));
    const env = {
      REGISTRY_AUTH_FILE: file,
      DOCKER_CONFIG: dir,
      COUPLET_REGISTRY_USERNAME: "env",
      COUPLET_REGISTRY_PASSWORD: "2",
    };
    expect(() => credentialsFor("s.example", env)).toThrow(/COUPLET_REGISTRY does not name the registry/);
    const named = { ...env, COUPLET_REGISTRY: "s.example, t.example:5000" };
    expect(credentialsFor("r.example", named)?.username).toBe("file");
    expect(credentialsFor("s.example", named)).toMatchObject({ username: "env", password: "2" });
    expect(credentialsFor("t.example:5000", named)).toMatchObject({ username: "env" });
    // Another registry (a base on Docker Hub, say) gets nothing from the environment.
    expect(credentialsFor("docker.io", named)).toBeUndefined();
    expect(credentialsFor("s.example", { DOCKER_CONFIG: dir })).toBeUndefined();
  });
});
