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

/** Can this wheel be installed on CPython 3.<minor> for this architecture? */
export function wheelFits(tags: WheelTags, minor: number, arch: Arch): boolean {
  if (!tags.platform.some((platform) => platformFits(platform, arch))) return false;
  for (const python of tags.python) {
    for (const abi of tags.abi) {
      if (abi === "none") {
        // Pure or ABI-free: py3, py3X with X <= minor, cp3X with X == minor.
        if (python === "py3") return true;
        const py = /^py3(\d+)$/.exec(python);
        if (py?.[1] && Number(py[1]) <= minor) return true;
        if (cpythonMinor(python) === minor) return true;
      } else if (abi === "abi3") {
        // The stable ABI: built for 3.Y, works on every 3.X with X >= Y.
        const built = cpythonMinor(python);
        if (built !== undefined && built <= minor) return true;
      } else {
        const built = cpythonMinor(python);
        if (built === minor && (abi === `cp3${minor}` || abi === `cp3${minor}m`)) return true;
      }
    }
  }
  return false;
}

export type Availability =
  /** A wheel fits this interpreter */
  | "wheel"
  /** The lock names only source distributions (or a directory/git/url source): it is always built */
  | "source-only"
  /** Wheels exist, but none for this interpreter: choosing it forces a compile */
  | "no-wheel-for-python";

export function availability(files: { file: string }[], minor: number, arch: Arch): Availability {
  // Wheels for other platforms (psycopg2 locks Windows wheels only) do not make a Linux build possible.
  const wheels = files
    .map((f) => wheelTags(f.file))
    .filter((t): t is WheelTags => t?.platform.some((p) => platformFits(p, arch)) === true);
  if (wheels.length === 0) return "source-only";
  return wheels.some((tags) => wheelFits(tags, minor, arch)) ? "wheel" : "no-wheel-for-python";
}
