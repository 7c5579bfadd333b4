// Self-contained HTML pages (the bench and inspect reports): escaping, and a document shell that allows no network.

/** Text or attribute value made inert: every character HTML gives a meaning to becomes a character reference. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The page around a body: UTF-8, a viewport for narrow screens, and a Content-Security-Policy that forbids
 * every fetch and script, so even a name the escaping missed could neither run nor call out.
 */
export function htmlDocument(page: { title: string; css: string; body: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
<style>
${page.css.trim()}
</style>
</head>
<body>
${page.body.trim()}
</body>
</html>
`;
}
