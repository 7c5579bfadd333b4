// The shapes of the JSON documents inside an image archive (docker save, OCI), checked before any field is used.
import * as v from "valibot";

/** Longest JSON document read from an archive: real ones are a few kB, so this only stops a bomb. */
export const MAX_JSON_BYTES = 16 * 1024 * 1024;

const HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/**
 * `algorithm:hex` with the length the algorithm gives; nothing else, because the hex part becomes a path inside
 * the archive (`blobs/sha256/<hex>`) and must not be able to name anything but a blob.
 */
export function isDigest(value: string): boolean {
  const match = /^([a-z0-9]+):([a-f0-9]+)$/.exec(value);
  return match !== null && HEX_LENGTH[match[1] as string] === (match[2] as string).length;
}

const digest = v.pipe(
  v.string(),
  v.check(isDigest, "expected a digest sha256:<64 hex digits> (or sha384, sha512)"),
);

// Only the fields inspect reads are checked; the rest (and fields of later spec versions) pass through untouched.
const historyEntry = v.looseObject({
  created: v.optional(v.string()),
  created_by: v.optional(v.string()),
  comment: v.optional(v.string()),
  empty_layer: v.optional(v.boolean()),
});

export const imageConfig = v.looseObject({
  architecture: v.optional(v.string()),
  os: v.optional(v.string()),
  // docker writes `null` for an empty Env or history, so null is as good as absent.
  config: v.nullish(v.looseObject({ Env: v.nullish(v.array(v.string())) })),
  history: v.nullish(v.array(historyEntry)),
  // The digests of the uncompressed layers: the same content has the same one in every archive format.
  rootfs: v.nullish(v.looseObject({ diff_ids: v.nullish(v.array(v.string())) })),
});
export type ImageConfig = v.InferOutput<typeof imageConfig>;
export type HistoryEntry = v.InferOutput<typeof historyEntry>;

export const dockerManifest = v.pipe(
  v.array(
    v.looseObject({
      Config: v.pipe(v.string(), v.minLength(1)),
      RepoTags: v.nullish(v.array(v.string())),
      Layers: v.array(v.pipe(v.string(), v.minLength(1))),
    }),
  ),
  v.minLength(1, "lists no image"),
);

const descriptor = v.looseObject({
  mediaType: v.optional(v.string()),
  digest,
  size: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  platform: v.optional(v.looseObject({ os: v.optional(v.string()), architecture: v.optional(v.string()) })),
  annotations: v.optional(v.record(v.string(), v.string())),
});
export type Descriptor = v.InferOutput<typeof descriptor>;

export const ociIndex = v.looseObject({
  mediaType: v.optional(v.string()),
  manifests: v.pipe(v.array(descriptor), v.minLength(1, "lists no image")),
});

export const ociManifest = v.looseObject({
  mediaType: v.optional(v.string()),
  config: descriptor,
  layers: v.array(descriptor),
});

/** The first problem found, as `where: what` on one line (`history[2]: expected object, received null`). */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  const issue = issues[0];
  if (!issue) return "does not have the expected shape";
  const where = (issue.path ?? [])
    .map((item, i) => {
      const key = item.key;
      return typeof key === "number" ? `[${key}]` : `${i === 0 ? "" : "."}${String(key)}`;
    })
    .join("");
  const what =
    issue.kind === "schema"
      ? issue.received === "undefined"
        ? "missing"
        : `expected ${issue.expected}, got ${issue.received}`
      : issue.message;
  return oneLine(where ? `${where}: ${what}` : what);
}

/** Text from an archive (names, keys) made safe for a one-line message: control characters become `?`. */
export function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is replaced
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, "?");
}
