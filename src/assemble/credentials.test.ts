import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { formatUserError, InputFileError, UserError } from "../errors.js";
import { credentialsFor, lookupAuthFile } from "./credentials.js";

const b64 = (text: string) => Buffer.from(text).toString("base64");

describe("lookupAuthFile", () => {
  it("finds an auths entry by host, by URL, and Docker Hub's legacy key", () => {
    const text = JSON.stringify({
      auths: {
        "registry.example.com": { auth: b64("a:pw:with:colons") },
        "https://127.0.0.1:5000/v1/": { auth: b64("b:x") },
        "https://index.docker.io/v1/": { auth: b64("hub:y") },
      },
    });
    expect(lookupAuthFile("f", text, "registry.example.com")).toEqual({
      credentials: { username: "a", password: "pw:with:colons", source: "f" },
    });
    expect(lookupAuthFile("f", text, "127.0.0.1:5000")).toMatchObject({ credentials: { username: "b" } });
    expect(lookupAuthFile("f", text, "docker.io")).toMatchObject({ credentials: { username: "hub" } });
    expect(lookupAuthFile("f", text, "other.example")).toBeUndefined();
  });

  it("follows Docker's order: credHelpers for the registry, then credsStore, then auths", () => {
    const file = {
      credHelpers: { "r.example": "ecr-login", "https://index.docker.io/v1/": "hub-helper" },
      credsStore: "desktop",
      auths: { "r.example": { auth: b64("file:1") }, "s.example": { auth: b64("file:2") }, "t.example": {} },
    };
    const text = JSON.stringify(file);
    expect(lookupAuthFile("f", text, "r.example")).toEqual({ helper: "ecr-login", field: "credHelpers" });
    expect(lookupAuthFile("f", text, "docker.io")).toEqual({ helper: "hub-helper", field: "credHelpers" });
    // credsStore answers for every other registry, as Docker reads it: the file's own entry is not used.
    expect(lookupAuthFile("f", text, "s.example")).toEqual({ helper: "desktop", field: "credsStore" });
    const noStore = JSON.stringify({ ...file, credsStore: undefined });
    expect(lookupAuthFile("f", noStore, "s.example")).toMatchObject({ credentials: { username: "file" } });
    // An entry `docker login` left empty beside a helper: nothing.
    expect(lookupAuthFile("f", noStore, "t.example")).toBeUndefined();
  });

  it("reads an identity token written by docker login", () => {
    const text = JSON.stringify({ auths: { h: { auth: b64("someone:"), identitytoken: "IDT" } } });
    expect(lookupAuthFile("f", text, "h")).toEqual({ credentials: { identityToken: "IDT", source: "f" } });
  });

  it("refuses a broken entry, broken JSON, and a helper name that is a path, in one line naming the file", () => {
    expect(() =>
      lookupAuthFile("f", JSON.stringify({ auths: { h: { auth: b64("nocolon") } } }), "h"),
    ).toThrow(UserError);
    expect(() => lookupAuthFile("f", "{", "h")).toThrow(/not valid JSON/);
    for (const bad of ["../../tmp/x", "-v", 5]) {
      const error = (() => {
        try {
          return lookupAuthFile("/home/u/.docker/config.json", JSON.stringify({ credsStore: bad }), "h");
        } catch (e) {
          return e;
        }
      })();
      expect(error, String(bad)).toBeInstanceOf(InputFileError);
      expect(formatUserError(error as InputFileError)).toMatch(
        /^\/home\/u\/\.docker\/config\.json: credsStore .* is not a credential helper's name/,
      );
    }
  });
});

/** A folder of docker-credential-* programs (shell scripts, run as real helpers are), and a PATH with it first. */
function helpers(): { dir: string; env: NodeJS.ProcessEnv; config(data: object): void } {
  const dir = mkdtempSync(path.join(tmpdir(), "couplet-helpers-"));
  const write = (name: string, body: string) => {
    const file = path.join(dir, `docker-credential-${name}`);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
  };
  // Answers for r.example:5000 and Docker Hub, writes down what it was asked, and knows nothing else.
  write(
    "good",
    `[ "$1" = get ] || exit 3
read -r server
printf '%s' "$server" > "${dir}/asked"
case "$server" in
  r.example:5000) printf '{"ServerURL":"%s","Username":"helper-user","Secret":"helper-secret"}\\n' "$server" ;;
  https://index.docker.io/v1/) printf '{"ServerURL":"%s","Username":"hub-user","Secret":"hub-secret"}\\n' "$server" ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac`,
  );
  write(
    "token",
    `read -r server; printf '{"ServerURL":"%s","Username":"<token>","Secret":"ID-TOKEN"}' "$server"`,
  );
  // docker-credential-pass 0.6 answers an unknown server with empty fields and exit 0.
  write("empty", `read -r server; printf '{"ServerURL":"%s","Username":"","Secret":""}' "$server"`);
  write("garbage", "read -r server; echo 'user=helper-user password=the-secret'");
  write("fails", "read -r server; echo 'error: the keychain is locked'; exit 1");
  // A wrapper that printed the answer and then failed in its own clean-up.
  write(
    "answers-then-fails",
    `read -r server; printf '{"ServerURL":"%s","Username":"u","Secret":"LEAKED-SECRET"}\\n' "$server"; echo 'clean-up failed' >&2; exit 1`,
  );
  write("hangs", "sleep 30");
  const env = { PATH: `${dir}:${process.env.PATH}`, DOCKER_CONFIG: dir };
  return {
    dir,
    env,
    config: (data) => writeFileSync(path.join(dir, "config.json"), JSON.stringify(data)),
  };
}

describe("credentialsFor with credential helpers", () => {
  it("asks the registry's helper with the host on stdin, and Docker Hub's with its legacy URL", async () => {
    const h = helpers();
    h.config({ credsStore: "good", auths: { "r.example:5000": {} } });
    expect(await credentialsFor("r.example:5000", h.env)).toEqual({
      username: "helper-user",
      password: "helper-secret",
      source: `docker-credential-good (credsStore in ${path.join(h.dir, "config.json")})`,
    });
    expect(readFileSync(path.join(h.dir, "asked"), "utf8")).toBe("r.example:5000");
    expect(await credentialsFor("docker.io", h.env)).toMatchObject({ username: "hub-user" });
    expect(readFileSync(path.join(h.dir, "asked"), "utf8")).toBe("https://index.docker.io/v1/");
  });

  it("takes 'not found' and empty answers as no credentials: the next source (the environment) is used", async () => {
    const h = helpers();
    const env = {
      ...h.env,
      COUPLET_REGISTRY: "other.example",
      COUPLET_REGISTRY_USERNAME: "env",
      COUPLET_REGISTRY_PASSWORD: "2",
    };
    h.config({ credsStore: "good" });
    expect(await credentialsFor("other.example", env)).toMatchObject({ username: "env" });
    h.config({ credHelpers: { "other.example": "empty" } });
    expect(await credentialsFor("other.example", env)).toMatchObject({ username: "env" });
    expect(await credentialsFor("other.example", h.env)).toBeUndefined();
  });

  it("reads a `<token>` answer as an identity token", async () => {
    const h = helpers();
    h.config({ credHelpers: { "r.example": "token" } });
    expect(await credentialsFor("r.example", h.env)).toEqual({
      identityToken: "ID-TOKEN",
      source: `docker-credential-token (credHelpers in ${path.join(h.dir, "config.json")})`,
    });
  });

  it("a missing, failing, babbling or hanging helper is one line naming the helper and the file", async () => {
    const h = helpers();
    const config = path.join(h.dir, "config.json");
    const line = async (helper: string, env = h.env) => {
      h.config({ credHelpers: { "r.example": helper } });
      const error = await credentialsFor("r.example", env).catch((e: unknown) => e);
      expect(error, helper).toBeInstanceOf(InputFileError);
      return formatUserError(error as InputFileError);
    };
    expect(await line("desktop")).toBe(
      `${config}: credHelpers names docker-credential-desktop: that program is not on PATH (install it, or remove "credHelpers" from the file to use its "auths" entries)`,
    );
    expect(await line("fails")).toMatch(
      new RegExp(
        `^${config}: credHelpers names docker-credential-fails: "get" failed \\(exit 1\\): error: the keychain is locked \\(`,
      ),
    );
    const answered = await line("answers-then-fails");
    expect(answered).toMatch(
      /docker-credential-answers-then-fails: "get" failed \(exit 1\): clean-up failed/,
    );
    expect(answered).not.toContain("LEAKED-SECRET");
    const garbage = await line("garbage");
    expect(garbage).toMatch(
      /docker-credential-garbage: its answer is not the JSON a credential helper prints/,
    );
    expect(garbage).not.toContain("the-secret");
    const started = Date.now();
    expect(await line("hangs", { ...h.env, COUPLET_CREDENTIAL_HELPER_TIMEOUT: "1" })).toMatch(
      /docker-credential-hangs: no answer within 1 s/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe("credentialsFor", () => {
  it("prefers the auth file's entry for the host; the environment's credentials only for the registries COUPLET_REGISTRY names", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "couplet-creds-"));
    const file = path.join(dir, "auth.json");
    writeFileSync(file, JSON.stringify({ auths: { "r.example": { auth: b64("file:1") } } }));
    const env = {
      REGISTRY_AUTH_FILE: file,
      DOCKER_CONFIG: dir,
      COUPLET_REGISTRY_USERNAME: "env",
      COUPLET_REGISTRY_PASSWORD: "2",
    };
    await expect(credentialsFor("s.example", env)).rejects.toThrow(
      /COUPLET_REGISTRY does not name the registry/,
    );
    const named = { ...env, COUPLET_REGISTRY: "s.example, t.example:5000" };
    expect(await credentialsFor("r.example", named)).toMatchObject({ username: "file" });
    expect(await credentialsFor("s.example", named)).toMatchObject({ username: "env", password: "2" });
    expect(await credentialsFor("t.example:5000", named)).toMatchObject({ username: "env" });
    // Another registry (a base on Docker Hub, say) gets nothing from the environment.
    expect(await credentialsFor("docker.io", named)).toBeUndefined();
    expect(await credentialsFor("s.example", { DOCKER_CONFIG: dir })).toBeUndefined();
  });
});
