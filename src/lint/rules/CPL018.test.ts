import { rule } from "./CPL018.js";
import { ruleTable } from "./tester.js";

ruleTable(rule, {
  valid: [
    {
      name: "update and install",
      code: "FROM debian:bookworm\nRUN apt-get update && apt-get install -y gcc\n",
    },
  ],
  invalid: [
    { name: "upgrade", code: "FROM debian:bookworm\nRUN apt-get update && apt-get upgrade -y\n", lines: [2] },
    {
      name: "dist-upgrade with options first",
      code: "FROM debian:bookworm\nRUN apt-get -y dist-upgrade\n",
      lines: [2],
      message: "dist-upgrade",
    },
  ],
});
