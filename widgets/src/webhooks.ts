// Inbound (generic) webhooks of one room: list, create, show and copy the URL, edit (expiry,
// message format: default, JavaScript function, template or built-in format), delivery log,
// a new URL (rotation), remove.
import {
  type BridgeApi,
  GENERIC_HOOK_EVENT,
  type GenericServiceConfig,
  type HookItem,
} from "./bridgeApi";
import { formatChooser, modeOf } from "./hookFormat";
import { DeliveryLogPanel } from "./deliveryLog";
import { RotateControl } from "./rotate";
import { announce, h } from "./dom";
import { formatDuration, formatWhen, fromLocalInput, relative, toLocalInput } from "./time";
import { card, ConnectionSection } from "./section";
import {
  CardControls,
  checkField,
  copyField,
  field,
  invalid,
  checkedName,
  NAME_MIN,
  NAME_MAX,
} from "./ui";

const EXPIRY_WARN_MS = 3 * 24 * 3600e3;

/** Ours: the built-in formats (hookshot/services/generic/transform/formats.py FORMATS). */
export const FORMATS: Record<string, string> = {
  alertmanager: "Prometheus Alertmanager",
  grafana: "Grafana Alerting",
  "uptime-kuma": "Uptime Kuma",
  sentry: "Sentry",
};

function expiryOf(item: HookItem, fetchedAt: number): Date | null {
  const iso = item.config.expirationDate;
  if (typeof iso === "string") {
    const date = new Date(iso);
    if (!Number.isNaN(date.getTime())) return date;
  }
  const remaining = item.secrets?.timeRemainingMs;
  return typeof remaining === "number" ? new Date(fetchedAt + remaining) : null;
}

export class WebhooksView {
  readonly root: HTMLElement;
  private readonly section: ConnectionSection<HookItem>;
  private fetchedAt = Date.now();

  constructor(
    private readonly api: BridgeApi,
    private readonly roomId: string,
    private readonly config: GenericServiceConfig,
  ) {
    this.section = new ConnectionSection<HookItem>(api, roomId, {
      service: "generic",
      listTitle: "Webhooks in this room",
      empty: "No webhooks in this room yet.",
      noun: "webhooks",
      build: (item) => this.buildCard(item),
    });
    this.root = this.section.frame({
      title: "Inbound webhooks",
      lede: "A webhook gives this room a URL. Services POST JSON or text to it, and the bridge posts it here as a message.",
      form: this.buildCreateForm(),
      refresh: () => this.load(),
      refreshed: "Webhooks refreshed",
    });
  }

  /** Fetch the room's webhooks and show them. */
  load(): Promise<void> {
    return this.section.load({ listed: () => (this.fetchedAt = Date.now()) });
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
    return this.section.createForm({
      title: "New webhook",
      submit: "Add webhook",
      fields: [name.field, expiry.field],
      eventType: GENERIC_HOOK_EVENT,
      body: (error) => {
        const value = checkedName(error, name.input);
        if (value === null) return null;
        const expires = fromLocalInput(expiry.input.value);
        if (!expiry.input.checkValidity() || (this.config.requireExpiryTime && !expires)) {
          invalid(
            error,
            expiry.input,
            "Check the expiry date",
            expiry.input.validationMessage || "Choose a date in the future.",
            "EXPIRY",
          );
          return null;
        }
        expiry.input.removeAttribute("aria-invalid");
        const body: Record<string, unknown> = { name: value };
        if (expires) body.expirationDate = expires.toISOString();
        return body;
      },
      done: (item, form) => {
        form.reset();
        this.section.list.remember(item.id, item);
        announce(`Webhook ${item.config.name} added. Its URL is ready to copy.`);
        this.section.list.card(item.id)?.querySelector<HTMLInputElement>("input.url")?.focus();
      },
    });
  }

  private buildCard(item: HookItem): HTMLElement {
    const name = item.config.name;
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

    const li = card({ "data-hook-id": item.id }, name, badges);

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
        this.section.list.remember(rotated.id, {
          ...rotated,
          canEdit: item.canEdit,
          canSendMessages: item.canSendMessages,
        });
        announce(`Webhook ${name} has a new URL; the old one no longer works.`);
        this.section.list.card(rotated.id)?.querySelector<HTMLInputElement>("input.url")?.focus();
      });
      const controls = new CardControls({
        name,
        question: `Remove “${name}”? Its URL will stop working at once.`,
        confirmText: "Remove webhook",
        problem,
        remove: this.section.removal(item, `Webhook ${name} removed`),
        editor: (c) => this.buildEditor(item, problem, c),
        extra: [rotate.button, log.button],
      });
      li.append(...controls.nodes, rotate.confirm, log.panel);
    }
    li.append(problem);
    return li;
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
    const chooser = formatChooser(
      item,
      this.config.allowJsTransformationFunctions === true,
      FORMATS,
    );
    return this.section.editor({
      item,
      name: item.config.name,
      controls,
      problem,
      fields: [expiry.field, wait.field, ...chooser.nodes],
      body: () => {
        const expires = fromLocalInput(expiry.input.value);
        if (this.config.requireExpiryTime && !expires) {
          invalid(
            problem,
            expiry.input,
            "Check the expiry date",
            "Webhooks on this bridge must have an expiry date.",
            "EXPIRY",
          );
          return null;
        }
        if (!chooser.check(problem)) return null;
        const body: Record<string, unknown> = {
          expirationDate: expires ? expires.toISOString() : null,
          ...chooser.body(),
        };
        if (!forced) body.waitForComplete = wait.input.checked;
        return body;
      },
      saved: `Webhook ${item.config.name} saved`,
    });
  }
}
