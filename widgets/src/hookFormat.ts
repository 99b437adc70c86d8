// A webhook editor's "Message format" choice: the bridge's default, a JavaScript function, a
// template or a built-in format, with the fields of each.
import type { HookItem, HookTemplate } from "./bridgeApi";
import { h, uid } from "./dom";
import { checkField, field, invalid } from "./ui";

// hookshot's v2 example (web/components/roomConfig/GenericWebhookConfig.tsx).
export const EXAMPLE_SCRIPT = `if (data.counter === undefined) {
    result = {
        empty: true,
        version: "v2"
    };
  } else if (data.counter > data.maxValue) {
    result = {
          plain: \`**Oh no!** The counter has gone over by \${data.counter - data.maxValue}\`,
          version: "v2"
    };
  } else {
    result = {
          plain: \`*Everything is fine*, the counter is under by \${data.maxValue - data.counter}\`,
          version: "v2"
    };
  }`;

const DOCS = "https://matrix-org.github.io/matrix-hookshot/latest/setup/webhooks.html#script-api";
// docs/templates.md, built next to index.html (see vite.config.ts).
const TEMPLATE_DOCS = "./templates.html";

export type Mode = "default" | "function" | "template" | "format";

/** How the bridge turns a request into a message: template, then format, then function. */
export function modeOf(item: HookItem, allowJs: boolean): Mode {
  const c = item.config;
  if (c.template) return "template";
  if (c.format) return "format";
  if (c.transformationFunction && allowJs) return "function";
  return "default";
}

const docLink = (href: string, text: string): HTMLAnchorElement =>
  h("a", { href, target: "_blank", rel: "noopener noreferrer" }, text);

/** The "Message format" choice and the fields of each choice; `formats` are the built-in ones. */
export function formatChooser(
  item: HookItem,
  allowJs: boolean,
  formats: Record<string, string>,
): {
  nodes: HTMLElement[];
  mode: () => Mode;
  check: (problem: HTMLElement) => boolean;
  body: () => Record<string, unknown>;
} {
  const c = item.config;
  const existingFn = typeof c.transformationFunction === "string" ? c.transformationFunction : "";
  const current = modeOf(item, allowJs);
  const group = uid("mode");
  const panels = new Map<Mode, HTMLElement>();
  const radios = new Map<Mode, HTMLInputElement>();
  const option = (value: Mode, label: string, hint: string): HTMLElement => {
    const made = checkField(
      label,
      { type: "radio", name: group, value, checked: value === current },
      hint,
    );
    radios.set(value, made.input);
    made.input.addEventListener("change", show);
    return made.field;
  };
  const show = (): void => {
    for (const [m, panel] of panels) panel.hidden = !radios.get(m)?.checked;
  };

  const options: HTMLElement[] = [
    option("default", "Default", "The request's text or html field, or its JSON as a code block."),
  ];
  const nodes: HTMLElement[] = [];

  // JavaScript function.
  let fnText: HTMLTextAreaElement | null = null;
  if (allowJs) {
    options.push(option("function", "JavaScript function", "Your code builds the message."));
    const fn = field(
      "textarea",
      "Transformation function (JavaScript)",
      {
        class: "mono",
        rows: 12,
        wrap: "off",
        spellcheck: "false",
        autocapitalize: "off",
        value: existingFn || EXAMPLE_SCRIPT,
      },
      {
        hint: h(
          "span",
          {},
          "The request body is ",
          h("code", {}, "data"),
          "; set ",
          h("code", {}, "result"),
          " (version “v2”). See the ",
          docLink(DOCS, "script API documentation"),
          ".",
        ),
      },
    );
    fnText = fn.input;
    panels.set("function", h("div", { class: "mode-panel" }, fn.field));
  } else if (existingFn) {
    nodes.push(
      h(
        "p",
        { class: "alert info" },
        "This webhook has a transformation function, but this bridge does not run JavaScript functions; it is kept as it is.",
      ),
    );
  }

  // Template.
  options.push(
    option("template", "Template", "Text with placeholders for values from the request."),
  );
  const tpl: Partial<HookTemplate> = c.template ?? {};
  const plain = field(
    "textarea",
    "Message",
    {
      class: "mono",
      rows: 4,
      spellcheck: "false",
      required: true,
      placeholder: "**{{ $.title }}** is {{ $.status | upper }}",
      value: tpl.plain ?? "",
    },
    {
      hint: h(
        "span",
        {},
        "Markdown. ",
        h("code", {}, "{{ $.path }}"),
        " inserts a value of the request body; ",
        h("code", {}, "| filter"),
        " changes it. See the ",
        docLink(TEMPLATE_DOCS, "template documentation"),
        ".",
      ),
    },
  );
  const html = field(
    "textarea",
    "HTML",
    { class: "mono", rows: 3, spellcheck: "false", value: tpl.html ?? "" },
    { optional: true, hint: "Without it, the message above is rendered as markdown." },
  );
  const msgtype = field(
    "input",
    "Message type",
    { type: "text", spellcheck: "false", placeholder: "m.notice", value: tpl.msgtype ?? "" },
    { optional: true, hint: "m.notice when empty; m.text for an ordinary message." },
  );
  const emptyIf = field(
    "textarea",
    "Send nothing when",
    {
      class: "mono",
      rows: 2,
      spellcheck: "false",
      placeholder: "$.status == 'resolved'",
      value: Array.isArray(tpl.empty_if) ? tpl.empty_if.join("\n") : (tpl.empty_if ?? ""),
    },
    { optional: true, hint: "One condition a line; when any holds, no message is sent." },
  );
  panels.set(
    "template",
    h("div", { class: "mode-panel" }, plain.field, html.field, msgtype.field, emptyIf.field),
  );

  // Built-in format.
  options.push(
    option("format", "Built-in format", "For services whose requests the bridge knows."),
  );
  const format = field(
    "select",
    "Format",
    {},
    {
      children: Object.entries(formats).map(([value, label]) =>
        h("option", { value, selected: c.format === value }, label),
      ),
      hint: "The service's alerts or events, laid out for the room.",
    },
  );
  panels.set("format", h("div", { class: "mode-panel" }, format.field));

  nodes.unshift(
    h("fieldset", { class: "field choice" }, h("legend", {}, "Message format"), ...options),
  );
  nodes.push(...panels.values());
  show();

  const mode = (): Mode =>
    ([...radios].find(([, r]) => r.checked)?.[0] as Mode | undefined) ?? "default";
  return {
    nodes,
    mode,
    check: (problem) => {
      const m = mode();
      if (m === "template" && !plain.input.value.trim())
        return invalid(
          problem,
          plain.input,
          "Check the template",
          "Write the message.",
          "TEMPLATE",
        );
      if (m === "function" && fnText && !fnText.value.trim())
        return invalid(
          problem,
          fnText,
          "Check the function",
          "Write the function, or choose another format.",
          "FUNCTION",
        );
      plain.input.removeAttribute("aria-invalid");
      return true;
    },
    body: () => {
      const m = mode();
      const body: Record<string, unknown> = { template: null, format: null };
      if (allowJs) body.transformationFunction = m === "function" ? fnText!.value : null;
      if (m === "format") body.format = format.input.value;
      if (m === "template") {
        const t: HookTemplate = { plain: plain.input.value };
        if (html.input.value.trim()) t.html = html.input.value;
        if (msgtype.input.value.trim()) t.msgtype = msgtype.input.value.trim();
        const conditions = emptyIf.input.value
          .split("\n")
          .map((l) => l.trim())
          .filter(Boolean);
        if (conditions.length) t.empty_if = conditions.length === 1 ? conditions[0] : conditions;
        body.template = t;
      }
      return body;
    },
  };
}
