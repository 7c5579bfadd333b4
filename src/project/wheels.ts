// Which locked files can be installed on a given CPython and Linux platform without compiling anything.
import { machine, type Platform, platformName } from "./platform.js";

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

/** The glibc each legacy manylinux alias stands for (PEP 600). */
const LEGACY_MANYLINUX: Record<string, [number, number]> = {
  manylinux1: [2, 5],
  manylinux2010: [2, 12],
  manylinux2014: [2, 17],
};

function glibcAtLeast(have: string | undefined, need: [number, number]): boolean {
  if (have === undefined) return true;
  const [major = 0, minor = 0] = have.split(".").map(Number);
  return major > need[0] || (major === need[0] && minor >= need[1]);
}

/** Does a wheel's platform tag load on this platform? */
export function platformFits(tag: string, platform: Platform): boolean {
  if (tag === "any") return true;
  const arch = machine(platform.arch);
  if (!tag.endsWith(`_${arch}`)) return false;
  const head = tag.slice(0, -arch.length - 1);
  if (platform.libc === "musl") return /^musllinux_\d+_\d+$/.test(head);
  // glibc images: manylinux tags up to the image's glibc, and plain linux tags (locally built wheels).
  if (head === "linux") return true;
  const legacy = LEGACY_MANYLINUX[head];
  if (legacy) return glibcAtLeast(platform.glibc, legacy);
  const pep600 = /^manylinux_(\d+)_(\d+)$/.exec(head);
  return pep600 ? glibcAtLeast(platform.glibc, [Number(pep600[1]), Number(pep600[2])]) : false;
}

export type Availability =
  /** A wheel fits this interpreter */
  | "wheel"
  /** No locked wheel fits the platform (only sdists, or wheels for other systems): it is always built */
  | "source-only"
  /** Wheels exist, but none for this interpreter: choosing it forces a compile */
  | "no-wheel-for-python";

/** CPython minor versions up to which a stable-ABI or pure wheel is assumed to keep working. */
const NEWEST_MINOR = 99;

/** Which CPython minors (3.<minor>) some wheel for this platform serves; computed once per files list. */
interface Coverage {
  linuxWheels: boolean;
  /** [from, to] ranges of minors, inclusive */
  ranges: [number, number][];
}

const coverage = new WeakMap<object, Map<string, Coverage>>();

function coverageOf(files: { file: string }[], platform: Platform): Coverage {
  let byPlatform = coverage.get(files);
  if (!byPlatform) {
    byPlatform = new Map();
    coverage.set(files, byPlatform);
  }
  const key = `${platformName(platform)}:${platform.glibc ?? ""}`;
  const known = byPlatform.get(key);
  if (known) return known;
  const result: Coverage = { linuxWheels: false, ranges: [] };
  for (const { file } of files) {
    const tags = wheelTags(file);
    // Wheels for other platforms (psycopg2 locks Windows wheels only) do not make a Linux build possible.
    if (!tags?.platform.some((p) => platformFits(p, platform))) continue;
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
  byPlatform.set(key, result);
  return result;
}

/**
 * Can these files be installed without compiling on CPython 3.<minor> on this platform? With no minor (the
 * interpreter is not known) the answer is "wheel" when some wheel fits the platform at all.
 */
export function availability(
  files: { file: string }[],
  minor: number | undefined,
  platform: Platform,
): Availability {
  const { linuxWheels, ranges } = coverageOf(files, platform);
  if (!linuxWheels) return "source-only";
  if (minor === undefined) return "wheel";
  return ranges.some(([from, to]) => from <= minor && minor <= to) ? "wheel" : "no-wheel-for-python";
}
