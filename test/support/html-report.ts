// Checks an inspect HTML report against the JSON report of the same image: every figure and every text from the
// image is recomputed from the JSON (through the element's data-source) and compared with what the page shows.
import { type DefaultTreeAdapterMap, parse } from "parse5";
import { VALUE_FORMATS, type ValueKind } from "../../src/image/html.js";

type Node = DefaultTreeAdapterMap["node"];
type Element = DefaultTreeAdapterMap["element"];

export function isElement(node: Node): node is Element {
  return "tagName" in node;
}

export function attr(element: Element, name: string): string | undefined {
  return element.attrs.find((a) => a.name === name)?.value;
}

export function textOf(node: Node): string {
  if (node.nodeName === "#text") return (node as DefaultTreeAdapterMap["textNode"]).value;
  if (!("childNodes" in node)) return "";
  // A <template>'s content is not in childNodes; the report has none.
  return node.childNodes.map(textOf).join("");
}

export function elements(root: Node): Element[] {
  const out: Element[] = [];
  const stack: Node[] = [root];
  for (let node = stack.pop(); node; node = stack.pop()) {
    if (isElement(node)) out.push(node);
    if ("childNodes" in node)
      for (let i = node.childNodes.length - 1; i >= 0; i--) stack.push(node.childNodes[i] as Node);
  }
  return out;
}

function pointer(json: unknown, path: string): unknown {
  if (!path.startsWith("/")) throw new Error(`not a JSON pointer: ${path}`);
  let at: unknown = json;
  for (const token of path.slice(1).split("/")) {
    const key = token.replace(/~1/g, "/").replace(/~0/g, "~");
    if (at === null || typeof at !== "object" || !(key in at)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/** The value a data-source names, computed from the JSON report. */
export function evaluate(json: unknown, source: string): unknown {
  const [head, ...rest] = source.split(" ");
  const all = () => {
    const values = rest.map((p) => pointer(json, p));
    if (values.some((v) => v === undefined)) throw new Error(`${source}: a pointer names nothing`);
    return values;
  };
  switch (head) {
    case "ratio": {
      const [a, b] = all() as number[];
      return (b as number) > 0 ? (a as number) / (b as number) : 0;
    }
    case "sum":
      return (all() as number[]).reduce((s, v) => s + v, 0);
    case "count":
      return all().length;
    case "length":
      return (all()[0] as unknown[]).length;
    case "basename":
      return (all()[0] as string).split("/").at(-1);
    default:
      if (rest.length > 0) throw new Error(`unknown source: ${source}`);
      return pointer(json, source);
  }
}

/**
 * What is wrong with the page, as lines (none when it is right): a shown value that differs from the JSON, a
 * digit or a title outside an element that names its source, a script, a handler or anything that would fetch.
 */
export function reportProblems(html: string, json: unknown, ruleIds: Set<string>): string[] {
  const problems: string[] = [];
  const document = parse(html);
  const all = elements(document);
  const body = all.find((e) => e.tagName === "body");
  if (!body) return ["no body"];
  for (const element of all) {
    for (const a of element.attrs) {
      if (/^on/i.test(a.name)) problems.push(`event handler ${a.name} on <${element.tagName}>`);
      if (a.name === "src" || a.name === "srcset" || a.name === "xlink:href")
        problems.push(`<${element.tagName} ${a.name}>`);
      if (a.name === "href" && !a.value.startsWith("#"))
        problems.push(`<${element.tagName} href=${a.value}>`);
    }
    if (["script", "link", "img", "iframe", "object", "embed", "base", "form"].includes(element.tagName))
      problems.push(`<${element.tagName}> element`);
  }
  const sourced = new Set<Element>();
  for (const element of elements(body)) {
    const title = attr(element, "title");
    if (title !== undefined) {
      const source = attr(element, "data-title-source");
      const expected = source ? evaluate(json, source) : undefined;
      if (title !== expected) problems.push(`title "${title}" is not ${source ?? "from the report"}`);
    }
    const source = attr(element, "data-source");
    if (source === undefined) continue;
    sourced.add(element);
    const kinds = (attr(element, "data-kind") ?? "").split(" ") as ValueKind[];
    const sources = source.split("|");
    if (kinds.length !== sources.length) {
      problems.push(`data-kind and data-source differ in length: ${source}`);
      continue;
    }
    let values: unknown[];
    try {
      values = sources.map((s) => evaluate(json, s));
    } catch (error) {
      problems.push((error as Error).message);
      continue;
    }
    values.forEach((v, i) => {
      if (v === undefined) problems.push(`${sources[i]} names nothing in the JSON report`);
    });
    const expected = kinds.map((k, i) => VALUE_FORMATS[k](values[i])).join(" · ");
    const text = textOf(element);
    if (text !== expected) problems.push(`${source}: shows "${text}", the JSON report gives "${expected}"`);
    const raw = attr(element, "data-value");
    if (raw !== undefined && Number(raw) !== values[0])
      problems.push(`${source}: data-value ${raw}, the JSON report has ${String(values[0])}`);
  }
  // Any digit on the page must be inside an element that names its source, or be a rule id chip.
  const walk = (node: Node, covered: boolean): void => {
    if (isElement(node)) {
      if (sourced.has(node)) covered = true;
      if (attr(node, "class")?.split(" ").includes("rule") && ruleIds.has(textOf(node).trim()))
        covered = true;
    }
    if (node.nodeName === "#text" && !covered) {
      const text = (node as DefaultTreeAdapterMap["textNode"]).value;
      if (/\d/.test(text)) problems.push(`a figure not taken from the report: "${text.trim()}"`);
    }
    if ("childNodes" in node) for (const child of node.childNodes) walk(child, covered);
  };
  walk(body, false);
  return problems;
}

export function parseHtml(html: string): DefaultTreeAdapterMap["document"] {
  return parse(html);
}
