// A layer's instruction on one line: the shell prefix and buildah's build-argument list dropped, long ones cut.
import { expect, it } from "vitest";
import { shortInstruction } from "./format.js";

it.each([
  ["/bin/sh -c #(nop) COPY dir:abc in /app ", 80, "COPY dir:abc in /app"],
  ["/bin/sh -c pip install\n   six", 80, "pip install six"],
  // buildah records the build arguments a RUN saw before its command
  ["|2 FULL_IMAGE=localhost/full PYTHON_IMAGE= /bin/sh -c pip wheel psycopg2", 80, "pip wheel psycopg2"],
  // a RUN whose own text starts like that list keeps it
  ["|2 A=b", 80, "|2 A=b"],
  ["/bin/sh -c echo 0123456789", 10, "echo 0123…"],
])("%j → %j", (text, width, expected) => {
  expect(shortInstruction(text, width)).toBe(expected);
});
