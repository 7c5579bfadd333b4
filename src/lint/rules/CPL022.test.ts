// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile variables, not templates
import { rule } from "./CPL022.js";
import { ruleTable } from "./tester.js";

ruleTable(rule, {
  valid: [
    { name: "tagged", code: "FROM python:3.11-slim-bookworm\n" },
    {
      name: "ARG default with a tag",
      code: "ARG PYTHON_IMAGE=python:3.11-slim-bookworm\nFROM ${PYTHON_IMAGE} AS base\nFROM base\n",
    },
    {
      name: "digest",
      code: "FROM python@sha256:0000000000000000000000000000000000000000000000000000000000000000\n",
    },
    { name: "registry with a port", code: "FROM registry.local:5000/python:3.11-slim\n" },
    { name: "scratch", code: "FROM scratch\n" },
    { name: "ARG without default: chosen at build time", code: "ARG BASE\nFROM $BASE\n" },
  ],
  invalid: [
    { name: "no tag", code: "FROM python\n", lines: [1], message: "no tag" },
    { name: "latest", code: "FROM python:latest AS b\nFROM python:3.11-slim\n", lines: [1] },
    {
      name: "ARG default without a tag",
      code: "ARG IMG=registry.local:5000/python\nFROM --platform=linux/amd64 ${IMG}\n",
      lines: [2],
    },
  ],
});
