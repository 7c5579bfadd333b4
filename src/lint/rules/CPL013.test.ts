// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile variables, not templates
import { rule } from "./CPL013.js";
import { ruleTable } from "./tester.js";

ruleTable(rule, {
  valid: [
    { name: "slim", code: "FROM python:3.11-slim-bookworm\n" },
    { name: "full builder, slim final", code: "FROM python:3.11 AS b\nFROM python:3.11-slim\n" },
    { name: "not a python image", code: "FROM debian:bookworm\n" },
  ],
  invalid: [
    { name: "full python image", code: "FROM python:3.11-buster\n", lines: [1], message: "full image" },
    { name: "through an ARG default", code: "ARG IMAGE=python:3.12\nFROM ${IMAGE}\n", lines: [2] },
    {
      name: "final stage built on a full parent stage",
      code: "FROM python:3.11 AS base\nFROM base AS production\n",
      lines: [1],
    },
  ],
});
