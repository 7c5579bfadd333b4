import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { installedPackages, isInstalled, parseDpkgStatus, providedPackages } from "./dpkg.js";

// A real status file of the bookworm stand-in base, cut to ten stanzas (test/fixtures/dpkg/README.md).
const status = readFileSync(new URL("../../test/fixtures/dpkg/status", import.meta.url), "utf8");

describe("parseDpkgStatus", () => {
  it("reads every stanza of a real status file, continuation lines and all", () => {
    const stanzas = parseDpkgStatus(status);
    expect(stanzas.map(({ package: name }) => name)).toEqual([
      "apt",
      "ca-certificates",
      "dpkg",
      "libc6",
      "libpython3.11-stdlib",
      "libssl3",
      "python3.11-minimal",
      "ssdeep",
      "tzdata",
      "unixodbc-common",
    ]);
    expect(stanzas.find(({ package: name }) => name === "unixodbc-common")).toEqual({
      package: "unixodbc-common",
      architecture: "all",
      status: "deinstall ok config-files",
      provides: [],
    });
    // A Description's continuation line that looks like a field does not start a field.
    expect(
      parseDpkgStatus(
        "Package: a\nStatus: install ok installed\nDescription: x\n Status: purge ok not-installed\n",
      ),
    ).toEqual([{ package: "a", architecture: "", status: "install ok installed", provides: [] }]);
  });

  it("takes field names case-insensitively, and CRLF endings and several blank lines as separators", () => {
    expect(parseDpkgStatus("package: a\r\nARCHITECTURE: amd64\r\n\r\n\r\nPackage: b\r\n")).toEqual([
      { package: "a", architecture: "amd64", status: undefined, provides: [] },
      { package: "b", architecture: "", status: undefined, provides: [] },
    ]);
  });
});

describe("installedPackages", () => {
  it("keeps `ok installed` packages and leaves out one removed with its config files kept", () => {
    const installed = installedPackages(parseDpkgStatus(status));
    expect(installed).toContain("ssdeep:amd64");
    expect(installed).toContain("tzdata:all");
    expect(installed.some((entry) => entry.startsWith("unixodbc-common:"))).toBe(false);
    expect(installed).toHaveLength(9);
  });

  it("counts held packages, and not half-installed, unpacked or reinstreq ones", () => {
    const stanza = (name: string, state: string) =>
      `Package: ${name}\nArchitecture: amd64\nStatus: ${state}\n`;
    const text = [
      stanza("held", "hold ok installed"),
      stanza("half", "install ok half-installed"),
      stanza("unpacked", "install ok unpacked"),
      stanza("broken", "install reinstreq installed"),
      stanza("going", "deinstall ok installed"),
    ].join("\n");
    expect(installedPackages(parseDpkgStatus(text))).toEqual(["going:amd64", "held:amd64"]);
  });

  it("counts a stanza without Status as shipped (a distroless status.d file)", () => {
    expect(installedPackages(parseDpkgStatus("Package: netbase\nVersion: 6.4\nArchitecture: all\n"))).toEqual(
      ["netbase:all"],
    );
  });
});

describe("providedPackages", () => {
  // dpkg's real status of the trixie stand-in after `apt-get install libmagic1` (test/fixtures/dpkg/README.md):
  // the t64 transition renamed the library packages, and the new ones provide the old names.
  const trixie = readFileSync(new URL("../../test/fixtures/dpkg/status-trixie", import.meta.url), "utf8");

  it("lists the names installed packages provide, without their versions, as name:arch", () => {
    const stanzas = parseDpkgStatus(trixie);
    expect(installedPackages(stanzas)).toContain("libmagic1t64:amd64");
    expect(installedPackages(stanzas)).not.toContain("libmagic1:amd64");
    expect(providedPackages(stanzas)).toEqual([
      "libmagic1:amd64",
      "libpam-mkhomedir:amd64",
      "libpam-motd:amd64",
      "libpam-umask:amd64",
      "libssl3:amd64",
    ]);
    expect(isInstalled("libmagic1", providedPackages(stanzas), "amd64")).toBe(true);
  });

  it("reads a Provides folded over continuation lines, and leaves out what a removed package provided", () => {
    const text = [
      "Package: a\nStatus: install ok installed\nArchitecture: amd64\nProvides: x (= 1),\n y,\n\tz\nDescription: d\n w, v",
      "Package: b\nStatus: deinstall ok config-files\nArchitecture: amd64\nProvides: gone",
    ].join("\n\n");
    expect(providedPackages(parseDpkgStatus(text))).toEqual(["x:amd64", "y:amd64", "z:amd64"]);
  });
});

describe("isInstalled", () => {
  const installed = ["libc6:amd64", "libc6:i386", "tzdata:all", "libstdc++6:amd64"];
  it("takes a plain name of the image's architecture or `all`", () => {
    expect(isInstalled("libc6", installed, "amd64")).toBe(true);
    expect(isInstalled("tzdata", installed, "arm64")).toBe(true);
    expect(isInstalled("libstdc++6", installed, "amd64")).toBe(true);
    expect(isInstalled("libpq5", installed, "amd64")).toBe(false);
    // Only a foreign-architecture copy: apt would install the image's own.
    expect(isInstalled("libc6", ["libc6:i386"], "amd64")).toBe(false);
  });
  it("takes name:arch as that architecture only", () => {
    expect(isInstalled("libc6:i386", installed, "amd64")).toBe(true);
    expect(isInstalled("libc6:arm64", installed, "amd64")).toBe(false);
    expect(isInstalled("tzdata:all", installed, "amd64")).toBe(true);
  });
});
