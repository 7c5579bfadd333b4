import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatUserError, OutputFileError } from "../errors.js";
import { DownloadError, get, indexFiles, parseIndexJson, storeInCache } from "./download.js";

describe("download errors are one line, not internal errors", () => {
  it("a package source url in the lock that is not a URL", async () => {
    await expect(indexFiles("not a url", "demo")).rejects.toThrow(DownloadError);
    await expect(indexFiles("not a url", "demo")).rejects.toThrow(/not a URL/);
    await expect(get("::")).rejects.toThrow(DownloadError);
  });

  it("an index that answers broken or foreign JSON for a project page", () => {
    const page = "https://index.example/simple/demo/";
    const broken = (() => {
      try {
        return parseIndexJson(Buffer.from("{not json"), page);
      } catch (e) {
        return e;
      }
    })();
    expect(broken).toBeInstanceOf(DownloadError);
    expect(formatUserError(broken as DownloadError)).toMatch(/does not parse/);
    expect(() => parseIndexJson(Buffer.from('{"meta": {}}'), page)).toThrow(/no files list/);
    expect(() => parseIndexJson(Buffer.from("null"), page)).toThrow(/no files list/);
    expect(() => parseIndexJson(Buffer.from('{"files": [{"filename": 5}]}'), page)).toThrow(/no files list/);
    expect(
      parseIndexJson(Buffer.from('{"files": [{"filename": "a.whl", "url": "a.whl"}]}'), page),
    ).toHaveLength(1);
  });

  it("a download cache where a file stands in place of a folder", async () => {
    const dir = mkdtempSync(join(tmpdir(), "couplet-cache-"));
    writeFileSync(join(dir, "wheels"), "not a folder");
    const error = await storeInCache(join(dir, "wheels", "sha256", "ab", "abcd"), Buffer.from("x")).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OutputFileError);
    expect(formatUserError(error as OutputFileError)).toMatch(/download cache.*COUPLET_CACHE/);
  });

  it("stores a download under its name", async () => {
    const dir = mkdtempSync(join(tmpdir(), "couplet-cache-"));
    const file = join(dir, "wheels", "sha256", "ab", "abcd");
    await storeInCache(file, Buffer.from("wheel bytes"));
    expect(readFileSync(file, "utf8")).toBe("wheel bytes");
  });
});

describe("a download cut off mid-body", () => {
  it("is a DownloadError naming the URL, not a raw stream error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "couplet-tls-"));
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    // A real TLS server on loopback, trusted the way a private index is: through SSL_CERT_FILE.
    execFileSync(
      "openssl",
      [
        ..."req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1".split(" "),
        ...["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
      ],
      { stdio: "ignore" },
    );
    process.env.SSL_CERT_FILE = cert;
    const server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => {
      res.writeHead(200, { "content-length": 1000 });
      res.write("only part of the body");
      setTimeout(() => res.socket?.destroy(), 50);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const error = await get(`https://127.0.0.1:${port}/pkg.whl`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DownloadError);
      expect(formatUserError(error as DownloadError)).toMatch(
        new RegExp(`^https://127\\.0\\.0\\.1:${port}/pkg\\.whl: the download broke off`),
      );
    } finally {
      server.close();
      delete process.env.SSL_CERT_FILE;
    }
  });
});
