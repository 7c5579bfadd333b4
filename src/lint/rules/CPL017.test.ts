import { rule } from "./CPL017.js";
import { ruleTable } from "./tester.js";

ruleTable(rule, {
  valid: [
    {
      name: "lists removed",
      code: "FROM debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends gcc && rm -rf /var/lib/apt/lists/*\n",
    },
    {
      name: "the seed's long options",
      code: "FROM debian:bookworm\nRUN apt-get update; apt-get install --assume-yes gcc; rm --recursive --force /var/lib/apt/lists/*\n",
    },
    {
      name: "lists in a cache mount",
      code: "FROM debian:bookworm\nRUN --mount=type=cache,target=/var/cache/apt,sharing=locked --mount=type=cache,target=/var/lib/apt/lists,sharing=locked apt-get update && apt-get install -y gcc\n",
    },
    {
      name: "whole /var/lib/apt mounted",
      code: "FROM debian:bookworm\nRUN --mount=type=cache,target=/var/lib/apt apt-get update\n",
    },
  ],
  invalid: [
    {
      name: "lists kept",
      code: "FROM debian:bookworm\nRUN apt-get update && apt-get install -y gcc\n",
      lines: [2],
      output:
        "FROM debian:bookworm\nRUN apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*\n",
    },
    {
      name: "removed in a later RUN is too late",
      code: "FROM debian:bookworm\nRUN apt-get update \\\n    && apt-get install -y gcc\nRUN rm -rf /var/lib/apt/lists/*\n",
      lines: [2],
      output:
        "FROM debian:bookworm\nRUN apt-get update \\\n    && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*\nRUN rm -rf /var/lib/apt/lists/*\n",
    },
    {
      name: "trailing semicolon: reported, not fixed",
      code: "FROM debian:bookworm\nRUN apt-get update; apt-get install -y gcc;\n",
      lines: [2],
    },
    {
      name: "heredoc: reported, not fixed",
      code: "FROM debian:bookworm\nRUN <<EOF\napt-get update\napt-get install -y gcc\nEOF\n",
      lines: [3],
    },
  ],
});
