// Debian's package database as an image holds it: which packages are installed, read from dpkg's status files.

/** Where dpkg keeps its database; distroless-style images keep one control file per package in status.d instead. */
export const DPKG_STATUS = "/var/lib/dpkg/status";
export const DPKG_STATUS_D = "/var/lib/dpkg/status.d/";

/** One stanza of a status file: the fields the check needs. */
export interface DpkgStanza {
  package: string;
  architecture: string;
  /** `install ok installed`; undefined in a distroless status.d file, which holds the package's control fields only */
  status: string | undefined;
  /** The names in its Provides field, without their versions: trixie's libmagic1t64 provides libmagic1 */
  provides: string[];
}

/**
 * The stanzas of a deb822 file (dpkg's status, or a status.d entry): blank lines separate stanzas, a line that
 * starts with a space or tab continues the field before it, and field names are case-insensitive. Only the
 * fields above are kept; a stanza with no Package field is skipped.
 */
export function parseDpkgStatus(text: string): DpkgStanza[] {
  const stanzas: DpkgStanza[] = [];
  let fields = new Map<string, string>();
  /** The field the last line started, which a continuation line continues */
  let field = "";
  const finish = () => {
    const name = fields.get("package");
    if (name)
      stanzas.push({
        package: name,
        architecture: fields.get("architecture") ?? "",
        status: fields.get("status"),
        provides: (fields.get("provides") ?? "")
          .split(",")
          .map((entry) => entry.trim().split(/[\s(]/)[0] as string)
          .filter(Boolean),
      });
    fields = new Map();
    field = "";
  };
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      finish();
      continue;
    }
    // Continuation lines belong to long fields (Description, Conffiles) that the check does not read, but a
    // relationship field such as Provides may be folded over several lines too.
    if (line.startsWith(" ") || line.startsWith("\t")) {
      if (field === "provides") fields.set(field, `${fields.get(field)} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    field = line.slice(0, colon).trim().toLowerCase();
    fields.set(field, line.slice(colon + 1).trim());
  }
  finish();
  return stanzas;
}

/**
 * `name:arch` of each package the stanzas say is installed. dpkg's Status is `want flag state`: the files are on
 * disk when the state is `installed` and the flag `ok` (`install ok installed`, also `hold ok installed`); a
 * removed package keeps a stanza as `deinstall ok config-files`, an unpacked or half-configured one says so in
 * the state, and `reinstreq` marks a broken install. A stanza without Status comes from a distroless status.d
 * file, where being listed is being shipped.
 */
export function installedPackages(stanzas: DpkgStanza[]): string[] {
  return [...new Set(stanzas.filter(isInstalledStanza).map((s) => `${s.package}:${s.architecture}`))].sort();
}

/**
 * `name:arch` of each name an installed package provides. apt installs a name only some package provides by
 * installing that package (`apt-get install libmagic1` on trixie installs libmagic1t64, which provides it), so
 * the name is as good as installed: without this, a base that has the library is refused, and the refusal's own
 * command, run, changes nothing.
 */
export function providedPackages(stanzas: DpkgStanza[]): string[] {
  const provided = new Set<string>();
  for (const stanza of stanzas.filter(isInstalledStanza))
    for (const name of stanza.provides) provided.add(`${name}:${stanza.architecture}`);
  return [...provided].sort();
}

function isInstalledStanza(stanza: DpkgStanza): boolean {
  const words = stanza.status?.split(/\s+/);
  return !words || (words[1] === "ok" && words[2] === "installed");
}

/**
 * Whether `wanted` (`libpq5`, or `libpq5:arm64` with Debian's architecture suffix) is among `installed`
 * (`name:arch` entries): without a suffix, a package of the image's architecture or `all` counts, as apt would
 * take it; a foreign-architecture copy (`libpq5:i386`) does not.
 */
export function isInstalled(wanted: string, installed: Iterable<string>, architecture: string): boolean {
  const colon = wanted.indexOf(":");
  const name = colon < 0 ? wanted : wanted.slice(0, colon);
  const accepted = colon < 0 ? [architecture, "all"] : [wanted.slice(colon + 1)];
  for (const entry of installed) {
    const at = entry.lastIndexOf(":");
    if (entry.slice(0, at) === name && accepted.includes(entry.slice(at + 1))) return true;
  }
  return false;
}
