import { Readable } from "node:stream";
import { gunzipSync } from "node:zlib";
import { extract, type Header as Headers } from "tar-stream";
import { describe, expect, it } from "vitest";
import { LayerTree, packLayer } from "./layer.js";

async function headersOf(tar: Buffer): Promise<Headers[]> {
  const headers: Headers[] = [];
  const reader = extract();
  reader.on("entry", (header, stream, next) => {
    headers.push(header);
    stream.on("end", next);
    stream.resume();
  });
  const done = new Promise<void>((resolve, reject) => {
    reader.on("finish", () => resolve());
    reader.on("error", reject);
  });
  Readable.from([tar]).pipe(reader);
  await done;
  return headers;
}

const mtime = new Date(1_700_000_000 * 1000);

function sample(order: "forward" | "backward"): LayerTree {
  const items: [string, string][] = [
    ["/app/.venv/lib/python3.11/site-packages/b.py", "b"],
    ["/app/.venv/lib/python3.11/site-packages/a-b/x.py", "x"],
    ["/app/.venv/lib/python3.11/site-packages/a/__init__.py", ""],
    ["/app/.venv/bin/tool", "#!/app/.venv/bin/python\n"],
  ];
  const tree = new LayerTree();
  for (const [file, text] of order === "forward" ? items : [...items].reverse()) tree.file(file, text);
  tree.symlink("/app/.venv/lib64", "lib");
  tree.dir("/home/app", 0o700, 10001);
  return tree;
}

describe("packLayer", () => {
  it("gives the same tar and gzip digests whatever order entries were added in", async () => {
    const [a, b] = await Promise.all([
      packLayer(sample("forward"), mtime),
      packLayer(sample("backward"), mtime),
    ]);
    expect(a.diffId).toBe(b.diffId);
    expect(a.digest).toBe(b.digest);
    expect(gunzipSync(a.gzip).equals(a.tar)).toBe(true);
  });

  it("writes parents first in byte order, one mtime, numeric owners and no user names", async () => {
    const headers = await headersOf((await packLayer(sample("backward"), mtime)).tar);
    const names = headers.map((header) => header.name);
    expect(names).toEqual([...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    expect(names.indexOf("app")).toBeLessThan(names.indexOf("app/.venv"));
    expect(names.indexOf("app/.venv/lib/python3.11/site-packages/a")).toBeLessThan(
      names.indexOf("app/.venv/lib/python3.11/site-packages/a/__init__.py"),
    );
    expect(new Set(headers.map((header) => header.mtime?.getTime()))).toEqual(new Set([mtime.getTime()]));
    expect(headers.every((header) => !header.uname && !header.gname)).toBe(true);
    expect(headers.find((header) => header.name === "home/app")).toMatchObject({
      uid: 10001,
      gid: 10001,
      mode: 0o700,
    });
    expect(headers.find((header) => header.name === "app/.venv/lib64")).toMatchObject({
      type: "symlink",
      linkname: "lib",
    });
  });

  it("changes the digest when a timestamp changes (SOURCE_DATE_EPOCH is part of the input)", async () => {
    const [a, b] = await Promise.all([
      packLayer(sample("forward"), mtime),
      packLayer(sample("forward"), new Date(0)),
    ]);
    expect(a.diffId).not.toBe(b.diffId);
  });
});
