import { rule } from "./CPL016.js";
import { ruleTable } from "./tester.js";

ruleTable(rule, {
  valid: [
    {
      name: "with the flag",
      code: "FROM debian:bookworm\nRUN apt-get install -y --no-install-recommends gcc\n",
    },
    {
      name: "with the apt option",
      code: "FROM debian:bookworm\nRUN apt-get -o APT::Install-Recommends=false install -y gcc\n",
    },
    {
      name: "the seed's --assume-yes form",
      code: "FROM debian:bookworm\nRUN apt-get install --assume-yes --no-install-recommends gcc\n",
    },
  ],
  invalid: [
    {
      name: "plain install",
      code: "FROM debian:bookworm\nRUN apt-get update && apt-get install -y gcc\n",
      lines: [2],
      output: "FROM debian:bookworm\nRUN apt-get update && apt-get install --no-install-recommends -y gcc\n",
    },
    {
      name: "over a continuation",
      code: "FROM debian:bookworm\nRUN apt-get update \\\n && apt-get install -y \\\n      libpq5\n",
      lines: [3],
      output:
        "FROM debian:bookworm\nRUN apt-get update \\\n && apt-get install --no-install-recommends -y \\\n      libpq5\n",
    },
  ],
});
