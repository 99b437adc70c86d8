// Build time only: docs/templates.md as a standalone page next to the widget
// (templates.html), so the template editor can link to documentation that matches this
// bridge. A small markdown subset: headings, paragraphs, fenced code, tables, "- " lists,
// code spans, **bold**, *emphasis* and [links](url).

const escape = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Inline markdown: code spans first (their content is literal), then the rest. */
function inline(text: string): string {
  let out = "";
  let rest = text;
  const code = /(`+)(.+?)\1(?!`)/;
  for (let m = code.exec(rest); m; m = code.exec(rest)) {
    out += emphasis(rest.slice(0, m.index));
    const body =
      m[2].length > 2 && m[2].startsWith(" ") && m[2].endsWith(" ") ? m[2].slice(1, -1) : m[2];
    out += `<code>${escape(body)}</code>`;
    rest = rest.slice(m.index + m[0].length);
  }
  return out + emphasis(rest);
}

function emphasis(text: string): string {
  return escape(text)
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, '<a href="$2" rel="noopener noreferrer">$1</a>')
    .replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[\s(])\*([^*\s][^*]*?)\*(?=[\s).,;:]|$)/g, "$1<em>$2</em>");
}

/** Table cells: split on `|` outside code spans. */
function cells(line: string): string[] {
  const out: string[] = [];
  let cell = "";
  let ticks = 0;
  const body = line.trim().replace(/^\|/, "").replace(/\|$/, "");
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === "`") {
      let n = 1;
      while (body[i + n] === "`") n++;
      ticks = ticks === 0 ? n : ticks === n ? 0 : ticks;
      cell += body.slice(i, i + n);
      i += n - 1;
    } else if (c === "|" && ticks === 0) {
      out.push(cell.trim());
      cell = "";
    } else cell += c;
  }
  out.push(cell.trim());
  return out;
}

export function markdownToHtml(md: string): string {
  const lines = md.replace(/\r\n/g, "\n").split("\n");
  const html: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i++;
    } else if (line.startsWith("```")) {
      const lang = line.slice(3).trim();
      const body: string[] = [];
      for (i++; i < lines.length && !lines[i].startsWith("```"); i++) body.push(lines[i]);
      i++;
      html.push(
        `<pre${lang ? ` data-lang="${escape(lang)}"` : ""}><code>${escape(body.join("\n"))}</code></pre>`,
      );
    } else if (/^#{1,4} /.test(line)) {
      const level = line.indexOf(" ");
      const text = line.slice(level + 1);
      const id = text
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-|-$/g, "");
      html.push(`<h${level} id="${id}">${inline(text)}</h${level}>`);
      i++;
    } else if (line.startsWith("|")) {
      const rows: string[][] = [];
      for (; i < lines.length && lines[i].startsWith("|"); i++) rows.push(cells(lines[i]));
      const [head, , ...body] = rows;
      html.push(
        '<div class="table"><table><thead><tr>' +
          head.map((c) => `<th scope="col">${inline(c)}</th>`).join("") +
          "</tr></thead><tbody>" +
          body.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join("")}</tr>`).join("") +
          "</tbody></table></div>",
      );
    } else if (line.startsWith("- ")) {
      const items: string[] = [];
      for (; i < lines.length && (lines[i].startsWith("- ") || lines[i].startsWith("  ")); i++) {
        if (lines[i].startsWith("- ")) items.push(lines[i].slice(2));
        else items[items.length - 1] += " " + lines[i].trim();
      }
      html.push(`<ul>${items.map((t) => `<li>${inline(t)}</li>`).join("")}</ul>`);
    } else {
      const para: string[] = [];
      for (; i < lines.length && lines[i].trim() && !/^(```|#{1,4} |\||- )/.test(lines[i]); i++)
        para.push(lines[i].trim());
      html.push(`<p>${inline(para.join(" "))}</p>`);
    }
  }
  return html.join("\n");
}

export function docsPage(md: string): string {
  const title = /^# (.+)$/m.exec(md)?.[1] ?? "Documentation";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${escape(title)} · hookshot</title>
<style>
:root { color-scheme: light dark; --bg: #fff; --text: #17191c; --muted: #545c68; --border: #c9cfd6;
  --code: #eceff2; --accent: #0a6b51; }
@media (prefers-color-scheme: dark) { :root { --bg: #15191e; --text: #e8ebef; --muted: #a9b1bc;
  --border: #414a55; --code: #252c34; --accent: #3ddc97; } }
html { background: var(--bg); color: var(--text); font: 15px/1.55 system-ui, sans-serif; }
body { margin: 0; } main { max-width: 860px; margin: 0 auto; padding: 16px; }
a { color: var(--accent); } h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 28px; }
code, pre { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.9em; }
code { background: var(--code); padding: 1px 4px; border-radius: 4px; }
pre { background: var(--code); padding: 10px 12px; border-radius: 6px; overflow-x: auto; }
pre code { padding: 0; }
.table { overflow-x: auto; } table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { text-align: left; vertical-align: top; padding: 6px 10px; border-bottom: 1px solid var(--border); }
th { color: var(--muted); }
</style></head>
<body><main>
${markdownToHtml(md)}
</main></body></html>
`;
}
