// Which wheels an interpreter accepts (PEP 425 tags, in the order pip prefers them) and the best locked file for it.

export interface TagTarget {
  major: number;
  minor: number;
  /** "cp311" */
  abi: string;
  /** "x86_64", "aarch64" */
  machine: string;
  glibc: { major: number; minor: number };
}

export interface WheelName {
  name: string;
  version: string;
  /** Build number, 0 when absent */
  build: number;
  /** Every tag the file carries, expanded from compressed sets ("py2.py3-none-any") */
  tags: string[];
}

/** Split a wheel filename (`name-version(-build)?-python-abi-platform.whl`); undefined if it is not one. */
export function parseWheelName(file: string): WheelName | undefined {
  if (!file.endsWith(".whl")) return undefined;
  const parts = file.slice(0, -4).split("-");
  if (parts.length !== 5 && parts.length !== 6) return undefined;
  const [name, version] = parts as [string, string];
  const build = parts.length === 6 ? Number.parseInt(parts[2] as string, 10) : 0;
  const [pythons, abis, platforms] = parts.slice(-3) as [string, string, string];
  const tags: string[] = [];
  for (const python of pythons.split("."))
    for (const abi of abis.split("."))
      for (const platform of platforms.split(".")) tags.push(`${python}-${abi}-${platform}`);
  return { name, version, build: Number.isNaN(build) ? 0 : build, tags };
}

/** manylinux platform tags from the glibc version down to 2.5, each followed by its legacy alias. */
function platforms(target: TagTarget): string[] {
  const { machine, glibc } = target;
  const legacy: Record<number, string> = { 17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1" };
  const out: string[] = [];
  if (glibc.major === 2) {
    for (let minor = glibc.minor; minor >= 0; minor--) {
      out.push(`manylinux_2_${minor}_${machine}`);
      const alias = legacy[minor];
      // manylinux1 and manylinux2010 were defined for x86 only; manylinux2014 for more architectures.
      if (alias && (minor === 17 || machine === "x86_64" || machine === "i686"))
        out.push(`${alias}_${machine}`);
    }
  }
  out.push(`linux_${machine}`);
  return out;
}

/** Every tag the interpreter accepts, most preferred first (the order of packaging.tags.sys_tags for CPython). */
export function supportedTags(target: TagTarget): string[] {
  const { major, minor, abi } = target;
  const interpreter = `cp${major}${minor}`;
  const plats = platforms(target);
  const tags: string[] = [];
  for (const abiTag of [abi, "abi3", "none"])
    for (const plat of plats) tags.push(`${interpreter}-${abiTag}-${plat}`);
  for (let older = minor - 1; older >= 2; older--)
    for (const plat of plats) tags.push(`cp${major}${older}-abi3-${plat}`);
  const pythons = [`py${major}${minor}`, `py${major}`];
  for (let older = minor - 1; older >= 0; older--) pythons.push(`py${major}${older}`);
  for (const python of pythons) for (const plat of plats) tags.push(`${python}-none-${plat}`);
  tags.push(`${interpreter}-none-any`);
  for (const python of pythons) tags.push(`${python}-none-any`);
  return tags;
}

export interface WheelChoice<F extends { file: string }> {
  file: F;
  /** Position of its best tag in the preference order (0 is best) */
  rank: number;
}

/** The locked wheel the interpreter prefers, as pip would choose it: best tag, then highest build number. */
export function bestWheel<F extends { file: string }>(
  files: F[],
  supported: string[],
): WheelChoice<F> | undefined {
  const order = new Map(supported.map((tag, index) => [tag, index]));
  let best: (WheelChoice<F> & { build: number }) | undefined;
  for (const file of files) {
    const wheel = parseWheelName(file.file);
    if (!wheel) continue;
    let rank = Number.POSITIVE_INFINITY;
    for (const tag of wheel.tags) rank = Math.min(rank, order.get(tag) ?? Number.POSITIVE_INFINITY);
    if (rank === Number.POSITIVE_INFINITY) continue;
    if (
      !best ||
      rank < best.rank ||
      (rank === best.rank && wheel.build > best.build) ||
      (rank === best.rank && wheel.build === best.build && file.file < best.file.file)
    )
      best = { file, rank, build: wheel.build };
  }
  return best ? { file: best.file, rank: best.rank } : undefined;
}
