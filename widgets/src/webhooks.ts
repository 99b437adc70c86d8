// Inbound (generic) webhooks of one room: list, create, show and copy the URL, edit (expiry,
// message format: default, JavaScript function, template or built-in format), delivery log,
// a new URL (rotation), remove.
import {
  type BridgeApi,
  GENERIC_HOOK_EVENT,
  type GenericServiceConfig,
  type HookItem,
  type HookTemplate,
} from "./bridgeApi";
import { DeliveryLogPanel } from "./deliveryLog";
import { RotateControl } from "./rotate";
import { announce, h, uid } from "./dom";
import { formatDuration, formatWhen, fromLocalInput, relative, toLocalInput } from "./time";
import {
  busyButton,
  CardControls,
  CardList,
  checkField,
  copyField,
  field,
  invalid,
  listNotices,
  sectionHead,
  showProblem,
  checkedName,
  NAME_MIN,
  NAME_MAX,
} from "./ui";

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
const EXPIRY_WARN_MS = 3 * 24 * 3600e3;

/** Ours: the built-in formats (hookshot/services/generic/transform/formats.py FORMATS). */
export const FORMATS: Record<string, string> = {
  alertmanager: "Prometheus Alertmanager",
  grafana: "Grafana Alerting",
  "uptime-kuma": "Uptime Kuma",
  sentry: "Sentry",
};

type Mode = "default" | "function" | "template" | "format";

/** How the bridge turns a request into a message: template, then format, then function. */
function modeOf(item: HookItem, allowJs: boolean): Mode {
  const c = item.config;
  if (c.template) return "template";
  if (c.format) return "format";
  if (c.transformationFunction && allowJs) return "function";
  return "default";
}

function expiryOf(item: HookItem, fetchedAt: number): Date | null {
  const iso = item.config.expirationDate;
  if (typeof iso === "string") {
    const date = new Date(iso);
    if (!Number.isNaN(date.getTime())) return date;
  }
  const remaining = item.secrets?.timeRemainingMs;
  return typeof remaining === "number" ? new Date(fetchedAt + remaining) : null;
}

const docLink = (href: string, text: string): HTMLAnchorElement =>
  h("a", { href, target: "_blank", rel: "noopener noreferrer" }, text);

export class WebhooksView {
  readonly root: HTMLElement;
  private readonly list: CardList<HookItem>;
  private readonly listTitle: HTMLHeadingElement;
  private readonly emptyEl: HTMLParagraphElement;
  private readonly noticeEl: HTMLDivElement;
  private readonly createForm: HTMLFormElement;
  private readonly listProblem: HTMLDivElement;
  private fetchedAt = Date.now();
  private canEdit = false;

  constructor(
    private readonly api: BridgeApi,
    private readonly roomId: string,
    private readonly config: GenericServiceConfig,
  ) {
    const titleId = uid("hooks-title");
    const listTitleId = uid("hooks-list");
    this.listTitle = h("h3", { id: listTitleId, tabindex: -1 }, "Webhooks in this room");
    this.list = new CardList<HookItem>(
      listTitleId,
      (item) => this.buildCard(item),
      () => this.changed(),
    );
    this.emptyEl = h("p", { class: "empty", hidden: true }, "No webhooks in this room yet.");
    this.noticeEl = h("div", { class: "notices" });
    this.listProblem = h("div", {});
    this.createForm = this.buildCreateForm();
    this.root = h(
      "section",
      { class: "service", "aria-labelledby": titleId, "data-service": "generic" },
      sectionHead(titleId, "Inbound webhooks", () => this.refresh()),
      h(
        "p",
        { class: "lede" },
        "A webhook gives this room a URL. Services POST JSON or text to it, and the bridge posts it here as a message.",
      ),
      this.noticeEl,
      this.listProblem,
      this.createForm,
      this.listTitle,
      this.emptyEl,
      this.list.el,
    );
  }

  /** Fetch the room's webhooks and show them. */
  async load(): Promise<void> {
    this.root.setAttribute("aria-busy", "true");
    this.listProblem.replaceChildren();
    try {
      const listing = await this.api.list<HookItem>(this.roomId, "generic");
      this.fetchedAt = Date.now();
      this.canEdit = listing.canEdit;
      this.list.set(listing.connections);
    } catch (err) {
      showProblem(this.listProblem, err);
      throw err;
    } finally {
      this.root.removeAttribute("aria-busy");
    }
  }

  private refresh(): void {
    // A failure is already shown in the section.
    this.load().then(
      () => announce("Webhooks refreshed"),
      () => undefined,
    );
  }

  private changed(): void {
    const items = this.list.items;
    this.createForm.hidden = !this.canEdit;
    this.noticeEl.replaceChildren(
      ...listNotices(
        this.canEdit,
        "webhooks",
        items.some((i) => i.canSendMessages === false),
      ),
    );
    this.listTitle.replaceChildren("Webhooks in this room");
    if (items.length) this.listTitle.append(h("span", { class: "count" }, ` (${items.length})`));
    this.emptyEl.hidden = items.length > 0;
  }

  private expiryField(current: Date | null): { field: HTMLElement; input: HTMLInputElement } {
    const now = Date.now();
    const max = this.config.maxExpiryTime;
    const required = this.config.requireExpiryTime === true;
    const hints = [
      required ? "Webhooks on this bridge must have an expiry date." : "Leave empty for no expiry.",
    ];
    if (max) hints.push(`At most ${formatDuration(max)} from now.`);
    return field(
      "input",
      "Expires",
      {
        name: "expirationDate",
        type: "datetime-local",
        required,
        min: toLocalInput(new Date(now + 60e3)),
        max: max ? toLocalInput(new Date(now + max)) : null,
        value: current ? toLocalInput(current) : "",
      },
      { hint: hints.join(" "), optional: !required },
    );
  }

  private buildCreateForm(): HTMLFormElement {
    const titleId = uid("create-title");
    const name = field(
      "input",
      "Name",
      {
        name: "name",
        type: "text",
        required: true,
        minlength: NAME_MIN,
        maxlength: NAME_MAX,
        autocomplete: "off",
        spellcheck: "false",
        placeholder: "e.g. ci-alerts",
      },
      { hint: `${NAME_MIN}–${NAME_MAX} characters. Messages will come from “name (Webhook)”.` },
    );
    const expiry = this.expiryField(null);
    const error = h("div", { class: "form-error" });
    const submit = h("button", { type: "submit", class: "primary" }, "Add webhook");
    const form = h(
      "form",
      { class: "card create", "aria-labelledby": titleId, novalidate: true },
      h("h3", { id: titleId }, "New webhook"),
      name.field,
      expiry.field,
      error,
      h("div", { class: "actions" }, submit),
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      error.replaceChildren();
      const value = checkedName(error, name.input);
      if (value === null) return;
      const expires = fromLocalInput(expiry.input.value);
      if (!expiry.input.checkValidity() || (this.config.requireExpiryTime && !expires)) {
        invalid(
          error,
          expiry.input,
          "Check the expiry date",
          expiry.input.validationMessage || "Choose a date in the future.",
          "EXPIRY",
        );
        return;
      }
      expiry.input.removeAttribute("aria-invalid");
      const body: Record<string, unknown> = { name: value };
      if (expires) body.expirationDate = expires.toISOString();
      const restore = busyButton(submit, "Adding…");
      this.api
        .create<HookItem>(this.roomId, GENERIC_HOOK_EVENT, body)
        .then((item) => {
          form.reset();
          this.list.remember(item.id, item);
          announce(`Webhook ${item.config.name} added. Its URL is ready to copy.`);
          this.list.card(item.id)?.querySelector<HTMLInputElement>("input.url")?.focus();
        })
        .catch((err: unknown) => showProblem(error, err))
        .finally(restore);
    });
    return form;
  }

  private buildCard(item: HookItem): HTMLElement {
    const name = item.config.name;
    const headingId = uid("hook");
    const expiry = expiryOf(item, this.fetchedAt);
    const left = expiry ? expiry.getTime() - Date.now() : null;
    const expired = left !== null && left <= 0;
    const soon = left !== null && !expired && left <= EXPIRY_WARN_MS;
    const canEdit = item.canEdit !== false && item.secrets !== undefined;

    const badges = h("span", { class: "badges" });
    if (expired) badges.append(h("span", { class: "badge critical" }, "Expired"));
    else if (soon) badges.append(h("span", { class: "badge warning" }, "Expires soon"));
    const mode = modeOf(item, true);
    if (mode === "template") badges.append(h("span", { class: "badge" }, "Template"));
    else if (mode === "format")
      badges.append(
        h("span", { class: "badge" }, FORMATS[item.config.format!] ?? item.config.format!),
      );
    else if (mode === "function") badges.append(h("span", { class: "badge" }, "Function"));

    const li = h(
      "li",
      { class: "card hook", "data-hook-id": item.id, "aria-labelledby": headingId },
      h(
        "div",
        { class: "hook-head" },
        h("h4", { id: headingId, class: "hook-name" }, name),
        badges,
      ),
    );

    if (expired) {
      li.append(
        h(
          "div",
          { class: "alert critical", "data-state": "expired" },
          h("p", { class: "alert-title" }, "This webhook has expired"),
          h(
            "p",
            {},
            canEdit
              ? "It no longer accepts requests. Set a new expiry date with Edit, or remove it."
              : "It no longer accepts requests.",
          ),
        ),
      );
    }

    li.append(
      item.secrets?.url
        ? copyField("Webhook URL", name, item.secrets.url, "Copy URL", "url")
        : h(
            "p",
            { class: "hint" },
            "The URL is only shown to people who may edit this room's webhooks.",
          ),
    );

    const facts: string[] = [];
    if (expiry) {
      facts.push(`${expired ? "Expired" : "Expires"} ${formatWhen(expiry)} (${relative(expiry)})`);
    } else {
      facts.push("Never expires");
    }
    if (item.config.waitForComplete || this.config.waitForComplete)
      facts.push("Answers after the message is sent");
    li.append(h("p", { class: "meta" }, facts.join(" · ")));

    const problem = h("div", {});
    if (canEdit) {
      const log = new DeliveryLogPanel(this.api, this.roomId, item.id, name);
      const rotate = new RotateControl(name, problem, async () => {
        const rotated = await this.api.rotate<HookItem>(this.roomId, item.id);
        this.list.remember(rotated.id, {
          ...rotated,
          canEdit: item.canEdit,
          canSendMessages: item.canSendMessages,
        });
        announce(`Webhook ${name} has a new URL; the old one no longer works.`);
        this.list.card(rotated.id)?.querySelector<HTMLInputElement>("input.url")?.focus();
      });
      const controls = new CardControls({
        name,
        question: `Remove “${name}”? Its URL will stop working at once.`,
        confirmText: "Remove webhook",
        problem,
        remove: async () => {
          await this.api.remove(this.roomId, item.id);
          this.list.remember(item.id, null);
          announce(`Webhook ${name} removed`);
          this.listTitle.focus();
        },
        editor: (c) => this.buildEditor(item, problem, c),
        extra: [rotate.button, log.button],
      });
      li.append(...controls.nodes, rotate.confirm, log.panel);
    }
    li.append(problem);
    return li;
  }

  /** The "Message format" choice and the fields of each choice. */
  private formatChooser(item: HookItem): {
    nodes: HTMLElement[];
    mode: () => Mode;
    check: (problem: HTMLElement) => boolean;
    body: () => Record<string, unknown>;
  } {
    const allowJs = this.config.allowJsTransformationFunctions === true;
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
      option(
        "default",
        "Default",
        "The request's text or html field, or its JSON as a code block.",
      ),
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
        children: Object.entries(FORMATS).map(([value, label]) =>
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

  private buildEditor(item: HookItem, problem: HTMLElement, controls: CardControls): HTMLElement {
    const expiry = this.expiryField(expiryOf(item, this.fetchedAt));
    const forced = this.config.waitForComplete === true;
    const wait = checkField(
      "Answer the sender only after the message is sent",
      {
        name: "waitForComplete",
        checked: forced || item.config.waitForComplete === true,
        disabled: forced,
      },
      forced
        ? "Always on for this bridge."
        : "The request waits until the message is in the room (or the transformation failed).",
    );
    const chooser = this.formatChooser(item);
    const save = h("button", { type: "submit", class: "primary" }, "Save");
    const cancel = h("button", { type: "button", onclick: () => controls.closeEditor() }, "Cancel");
    const form = h(
      "form",
      { class: "edit", "aria-label": `Edit ${item.config.name}`, novalidate: true },
      expiry.field,
      wait.field,
      ...chooser.nodes,
      h("div", { class: "actions" }, save, cancel),
    );

    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      problem.replaceChildren();
      const expires = fromLocalInput(expiry.input.value);
      if (this.config.requireExpiryTime && !expires) {
        invalid(
          problem,
          expiry.input,
          "Check the expiry date",
          "Webhooks on this bridge must have an expiry date.",
          "EXPIRY",
        );
        return;
      }
      if (!chooser.check(problem)) return;
      const body: Record<string, unknown> = {
        expirationDate: expires ? expires.toISOString() : null,
        ...chooser.body(),
      };
      if (!forced) body.waitForComplete = wait.input.checked;
      const restore = busyButton(save, "Saving…");
      this.api
        .update<HookItem>(this.roomId, item.id, body)
        .then((updated) => {
          this.list.remember(updated.id, {
            ...updated,
            canEdit: item.canEdit,
            canSendMessages: item.canSendMessages,
          });
          announce(`Webhook ${item.config.name} saved`);
          this.list.card(updated.id)?.querySelector<HTMLElement>("[data-focus=edit]")?.focus();
        })
        .catch((err: unknown) => {
          showProblem(problem, err);
          restore();
        });
    });
    return form;
  }
}
