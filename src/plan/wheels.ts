// Which locked files can be installed on a given CPython on Linux without compiling anything.

export type Arch = "x86_64" | "aarch64";

export interface WheelTags {
  python: string[];
  abi: string[];
  platform: string[];
}

/** The planner asks about each file once per candidate interpreter: parse each name once. */
const parsed = new Map<string, WheelTags | undefined>();

/** Parse `name-version(-build)?-python-abi-platform.whl`; undefined for anything else (sdists). */
export function wheelTags(filename: string): WheelTags | undefined {
  if (parsed.has(filename)) return parsed.get(filename);
  const tags = parseWheelTags(filename);
  parsed.set(filename, tags);
  return tags;
}

function parseWheelTags(filename: string): WheelTags | undefined {
  if (!filename.endsWith(".whl")) return undefined;
  const parts = filename.slice(0, -4).split("-");
  if (parts.length !== 5 && parts.length !== 6) return undefined;
  const [python, abi, platform] = parts.slice(-3);
  if (!python || !abi || !platform) return undefined;
  // Compressed tag sets: "py2.py3", "manylinux_2_17_x86_64.manylinux2014_x86_64".
  return { python: python.split("."), abi: abi.split("."), platform: platform.split(".") };
}

function cpythonMinor(tag: string): number | undefined {
  const match = /^cp3(\d+)$/.exec(tag);
  return match?.[1] ? Number(match[1]) : undefined;
}

function platformFits(platform: string, arch: Arch): boolean {
  if (platform === "any") return true;
  // glibc-based images: manylinux and plain linux tags, never musllinux.
  return (
    (/^manylinux/.test(platform) || platform.startsWith("linux_")) &&
    platform.endsWith(`_${arch}`) &&
    !platform.startsWith("musllinux")
  );
}

export type Availability =
  /** A wheel fits this interpreter */
  | "wheel"
  /** The lock names only source distributions (or a directory/git/url source): it is always built */
  | "source-only"
  /** Wheels exist, but none for this interpreter: choosing it forces a compile */
  | "no-wheel-for-python";

/** CPython minor versions up to which a stable-ABI or pure wheel is assumed to keep working. */
const NEWEST_MINOR = 99;

/** Which CPython minors (3.<minor>) some Linux wheel of this arch serves; computed once per files list. */
interface Coverage {
  linuxWheels: boolean;
  /** [from, to] ranges of minors, inclusive */
  ranges: [number, number][];
}

const coverage = new WeakMap<object, Map<Arch, Coverage>>();

function coverageOf(files: { file: string }[], arch: Arch): Coverage {
  let byArch = coverage.get(files);
  if (!byArch) {
    byArch = new Map();
    coverage.set(files, byArch);
  }
  const known = byArch.get(arch);
  if (known) return known;
  const result: Coverage = { linuxWheels: false, ranges: [] };
  for (const { file } of files) {
    const tags = wheelTags(file);
    // Wheels for other platforms (psycopg2 locks Windows wheels only) do not make a Linux build possible.
    if (!tags?.platform.some((p) => platformFits(p, arch))) continue;
    result.linuxWheels = true;
    for (const python of tags.python) {
      for (const abi of tags.abi) {
        const built = cpythonMinor(python);
        const py = /^py3(\d*)$/.exec(python);
        if (abi === "none" && py) result.ranges.push([py[1] ? Number(py[1]) : 0, NEWEST_MINOR]);
        else if (abi === "none" && built !== undefined) result.ranges.push([built, built]);
        else if (abi === "abi3" && built !== undefined) result.ranges.push([built, NEWEST_MINOR]);
        else if (built !== undefined && (abi === `cp3${built}` || abi === `cp3${built}m`))
          result.ranges.push([built, built]);
      }
    }
  }
  byArch.set(arch, result);
  return result;
}

export function availability(files: { file: string }[], minor: number, arch: Arch): Availability {
  const { linuxWheels, ranges } = coverageOf(files, arch);
  if (!linuxWheels) return "source-only";
  return ranges.some(([from, to]) => from <= minor && minor <= to) ? "wheel" : "no-wheel-for-python";
}
