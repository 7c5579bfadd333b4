// The image config settings the assemble unit tests build their small images with.
import type { ImageSettings } from "../../src/assemble/image.js";

export const imageSettings: ImageSettings = {
  created: new Date(1_700_000_000_000),
  env: {},
  user: "1000:1000",
  workdir: "/app",
  entrypoint: undefined,
  cmd: ["yamlstat"],
  labels: {},
  exposed: [],
  settingsHistory: "USER 1000:1000",
};

/** The facts of the bookworm stand-in base (scripts/make-base-image) that wheel choice and the venv depend on. */
export const bookwormFacts = {
  python: {
    command: "/usr/bin/python3",
    executable: "/usr/bin/python3.11",
    version: "3.11.2",
    major: 3,
    minor: 11,
    abi: "cp311",
  },
  architecture: "amd64",
  machine: "x86_64" as const,
  glibc: { major: 2, minor: 36 },
};
