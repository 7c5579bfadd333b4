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
