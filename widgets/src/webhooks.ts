// Inbound (generic) webhooks of one room: list, create, show and copy the URL, edit, remove.
import type { BridgeApi, GenericServiceConfig, HookItem } from "./bridgeApi";
import { announce, h, uid } from "./dom";
import { describe, type Problem } from "./messages";
import { formatDuration, formatWhen, fromLocalInput, relative, toLocalInput } from "./time";

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
const EXPIRY_WARN_MS = 3 * 24 * 3600e3;
// Our own changes win over a listing for this long: the bridge applies them when the room
// state echo arrives, which may be after the next listing.
const OVERRIDE_MS = 30_000;
const NAME_MIN = 3;
const NAME_MAX = 64;

/** A small alert box (role=alert so it is read out when it appears). */
export function problemBox(problem: Problem, extra?: Node): HTMLElement {
  return h(
    "div",
    { class: "alert critical", role: "alert", "data-errcode": problem.code },
    h("p", { class: "alert-title" }, problem.title),
    h("p", {}, problem.detail),
    problem.hint ? h("p", { class: "hint" }, problem.hint) : null,
    extra ?? null,
  );
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

async function copyText(text: string, input: HTMLInputElement): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard API refused (no permission in this iframe): the old way.
    input.focus();
    input.select();
    try {
      return document.execCommand("copy");
    } catch {
      return false;
    }
  }
}

interface Card {
  el: HTMLLIElement;
  key: string;
  editButton: HTMLButtonElement;
}

export class WebhooksView {
  readonly root: HTMLElement;
  private readonly listEl: HTMLUListElement;
  private readonly listTitle: HTMLHeadingElement;
  private readonly emptyEl: HTMLParagraphElement;
  private readonly noticeEl: HTMLDivElement;
  private readonly createForm: HTMLFormElement;
  private readonly listProblem: HTMLDivElement;
  private readonly cards = new Map<string, Card>();
  private readonly overrides = new Map<string, { item: HookItem | null; at: number }>();
  private items: HookItem[] = [];
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
    this.listEl = h("ul", { class: "hooks", "aria-labelledby": listTitleId });
    this.emptyEl = h("p", { class: "empty", hidden: true }, "No webhooks in this room yet.");
    this.noticeEl = h("div", { class: "notices" });
    this.listProblem = h("div", {});
    this.createForm = this.buildCreateForm();
    this.root = h(
      "section",
      { class: "service", "aria-labelledby": titleId, "data-service": "generic" },
      h(
        "div",
        { class: "section-head" },
        h("h2", { id: titleId }, "Inbound webhooks"),
        h("button", { type: "button", class: "ghost", onclick: () => this.refresh() }, "Refresh"),
      ),
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
      this.listEl,
    );
  }

  /** Fetch the room's webhooks and show them. */
  async load(): Promise<void> {
    this.root.setAttribute("aria-busy", "true");
    this.listProblem.replaceChildren();
    try {
      const listing = await this.api.listHooks(this.roomId);
      this.fetchedAt = Date.now();
      this.canEdit = listing.canEdit;
      this.items = this.reconcile(listing.connections);
      this.render();
    } catch (err) {
      this.listProblem.replaceChildren(problemBox(describe(err)));
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

  private reconcile(listed: HookItem[]): HookItem[] {
    const now = Date.now();
    for (const [id, o] of this.overrides) if (now - o.at > OVERRIDE_MS) this.overrides.delete(id);
    const out: HookItem[] = [];
    const seen = new Set<string>();
    for (const item of listed) {
      seen.add(item.id);
      const o = this.overrides.get(item.id);
      if (!o) out.push(item);
      else if (o.item) out.push(o.item);
    }
    for (const [id, o] of this.overrides) if (o.item && !seen.has(id)) out.push(o.item);
    return out;
  }

  private remember(id: string, item: HookItem | null): void {
    this.overrides.set(id, { item, at: Date.now() });
    const at = this.items.findIndex((i) => i.id === id);
    if (item && at >= 0) this.items[at] = item;
    else if (item) this.items.push(item);
    else if (at >= 0) this.items.splice(at, 1);
    this.render();
  }

  // --- rendering --------------------------------------------------------------------------

  private render(): void {
    this.createForm.hidden = !this.canEdit;
    const notices: Node[] = [];
    if (!this.canEdit) {
      notices.push(
        h(
          "p",
          { class: "alert info" },
          "You can see this room's webhooks, but adding or changing them needs a higher power level in this room.",
        ),
      );
    }
    if (this.items.some((i) => i.canSendMessages === false)) {
      notices.push(
        h(
          "div",
          { class: "alert warning", "data-errcode": "BOT_CANNOT_SEND" },
          h("p", { class: "alert-title" }, "The bot cannot send messages here"),
          h(
            "p",
            {},
            "Its power level is below what this room needs to send messages, so webhook deliveries will fail. Raise the bot's power level in the room settings.",
          ),
        ),
      );
    }
    this.noticeEl.replaceChildren(...notices);

    this.listTitle.replaceChildren("Webhooks in this room");
    if (this.items.length)
      this.listTitle.append(h("span", { class: "count" }, ` (${this.items.length})`));
    this.emptyEl.hidden = this.items.length > 0;

    const wanted = new Set(this.items.map((i) => i.id));
    for (const [id, card] of this.cards) {
      if (!wanted.has(id)) {
        card.el.remove();
        this.cards.delete(id);
      }
    }
    // Keep cards whose item did not change: an open editor keeps what the user typed.
    this.items.forEach((item, index) => {
      const key = JSON.stringify(item);
      let card = this.cards.get(item.id);
      if (!card || card.key !== key) {
        const fresh = this.buildCard(item, key);
        if (card) card.el.replaceWith(fresh.el);
        card = fresh;
        this.cards.set(item.id, card);
      }
      if (this.listEl.children[index] !== card.el) {
        this.listEl.insertBefore(card.el, this.listEl.children[index] ?? null);
      }
    });
  }

  private expiryField(
    label: string,
    current: Date | null,
  ): { field: HTMLElement; input: HTMLInputElement } {
    const id = uid("expiry");
    const hintId = uid("expiry-hint");
    const now = Date.now();
    const max = this.config.maxExpiryTime;
    const required = this.config.requireExpiryTime === true;
    const input = h("input", {
      id,
      name: "expirationDate",
      type: "datetime-local",
      required,
      min: toLocalInput(new Date(now + 60e3)),
      max: max ? toLocalInput(new Date(now + max)) : null,
      value: current ? toLocalInput(current) : "",
      "aria-describedby": hintId,
    });
    const hints: string[] = [];
    hints.push(
      required ? "Webhooks on this bridge must have an expiry date." : "Leave empty for no expiry.",
    );
    if (max) hints.push(`At most ${formatDuration(max)} from now.`);
    const field = h(
      "div",
      { class: "field" },
      h(
        "label",
        { for: id },
        label,
        required ? null : h("span", { class: "optional" }, " (optional)"),
      ),
      input,
      h("p", { id: hintId, class: "hint" }, hints.join(" ")),
    );
    return { field, input };
  }

  private buildCreateForm(): HTMLFormElement {
    const titleId = uid("create-title");
    const nameId = uid("hook-name");
    const nameHint = uid("hook-name-hint");
    const name = h("input", {
      id: nameId,
      name: "name",
      type: "text",
      required: true,
      minlength: NAME_MIN,
      maxlength: NAME_MAX,
      autocomplete: "off",
      spellcheck: "false",
      placeholder: "e.g. ci-alerts",
      "aria-describedby": nameHint,
    });
    const expiry = this.expiryField("Expires", null);
    const error = h("div", { class: "form-error" });
    const submit = h("button", { type: "submit", class: "primary" }, "Add webhook");
    const form = h(
      "form",
      { class: "card create", "aria-labelledby": titleId, novalidate: true },
      h("h3", { id: titleId }, "New webhook"),
      h(
        "div",
        { class: "field" },
        h("label", { for: nameId }, "Name"),
        name,
        h(
          "p",
          { id: nameHint, class: "hint" },
          `${NAME_MIN}–${NAME_MAX} characters. Messages will come from “name (Webhook)”.`,
        ),
      ),
      expiry.field,
      error,
      h("div", { class: "actions" }, submit),
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      error.replaceChildren();
      const value = name.value.trim();
      if (value.length < NAME_MIN || value.length > NAME_MAX) {
        name.setAttribute("aria-invalid", "true");
        error.replaceChildren(
          problemBox({
            title: "Check the name",
            detail: `A name must be ${NAME_MIN}–${NAME_MAX} characters long.`,
            code: "NAME",
          }),
        );
        name.focus();
        return;
      }
      name.removeAttribute("aria-invalid");
      const expires = fromLocalInput(expiry.input.value);
      if (!expiry.input.checkValidity() || (this.config.requireExpiryTime && !expires)) {
        expiry.input.setAttribute("aria-invalid", "true");
        error.replaceChildren(
          problemBox({
            title: "Check the expiry date",
            detail: expiry.input.validationMessage || "Choose a date in the future.",
            code: "EXPIRY",
          }),
        );
        expiry.input.focus();
        return;
      }
      expiry.input.removeAttribute("aria-invalid");
      const body: Record<string, unknown> = { name: value };
      if (expires) body.expirationDate = expires.toISOString();
      submit.disabled = true;
      submit.textContent = "Adding…";
      this.api
        .createHook(this.roomId, body)
        .then((item) => {
          form.reset();
          this.remember(item.id, item);
          announce(`Webhook ${item.config.name} added. Its URL is ready to copy.`);
          this.cards.get(item.id)?.el.querySelector<HTMLInputElement>("input.url")?.focus();
        })
        .catch((err: unknown) => {
          error.replaceChildren(problemBox(describe(err)));
        })
        .finally(() => {
          submit.disabled = false;
          submit.textContent = "Add webhook";
        });
    });
    return form;
  }

  private buildCard(item: HookItem, key: string): Card {
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
    if (item.config.transformationFunction)
      badges.append(h("span", { class: "badge" }, "Function"));

    const li = h("li", {
      class: "card hook",
      "data-hook-id": item.id,
      "aria-labelledby": headingId,
    });
    li.append(
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

    if (item.secrets?.url) {
      const urlId = uid("url");
      const url = h("input", {
        id: urlId,
        class: "url mono",
        type: "text",
        readonly: true,
        value: item.secrets.url,
        spellcheck: "false",
        onfocus: (ev: Event) => (ev.target as HTMLInputElement).select(),
      });
      const copy = h(
        "button",
        { type: "button" },
        "Copy URL",
        h("span", { class: "visually-hidden" }, ` of ${name}`),
      );
      copy.addEventListener("click", () => {
        void copyText(url.value, url).then((ok) => {
          copy.firstChild!.textContent = ok ? "Copied" : "Copy failed";
          announce(
            ok ? `URL of ${name} copied` : "Could not copy: select the URL and copy it yourself",
          );
          window.setTimeout(() => {
            copy.firstChild!.textContent = "Copy URL";
          }, 2000);
        });
      });
      li.append(
        h(
          "div",
          { class: "field" },
          h(
            "label",
            { for: urlId },
            "Webhook URL",
            h("span", { class: "visually-hidden" }, ` of ${name}`),
          ),
          h("div", { class: "url-row" }, url, copy),
        ),
      );
    } else {
      li.append(
        h(
          "p",
          { class: "hint" },
          "The URL is only shown to people who may edit this room's webhooks.",
        ),
      );
    }

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
    const editId = uid("edit");
    const editButton = h(
      "button",
      { type: "button", "aria-expanded": "false", "aria-controls": editId },
      "Edit",
      h("span", { class: "visually-hidden" }, ` ${name}`),
    );
    const removeButton = h(
      "button",
      { type: "button", class: "danger" },
      "Remove",
      h("span", { class: "visually-hidden" }, ` ${name}`),
    );
    const card: Card = { el: li, key, editButton };
    if (canEdit) {
      const editor = this.buildEditor(item, editId, problem, card);
      const confirm = this.buildConfirm(item, problem, removeButton);
      editButton.addEventListener("click", () => {
        const open = editor.hidden;
        editor.hidden = !open;
        confirm.hidden = true;
        editButton.setAttribute("aria-expanded", String(open));
        if (open) editor.querySelector<HTMLElement>("input, textarea")?.focus();
      });
      removeButton.addEventListener("click", () => {
        confirm.hidden = false;
        editor.hidden = true;
        editButton.setAttribute("aria-expanded", "false");
        confirm.querySelector<HTMLButtonElement>("button.danger")?.focus();
      });
      li.append(h("div", { class: "actions" }, editButton, removeButton), confirm, editor);
    }
    li.append(problem);
    return card;
  }

  private buildConfirm(
    item: HookItem,
    problem: HTMLElement,
    removeButton: HTMLButtonElement,
  ): HTMLElement {
    const name = item.config.name;
    const textId = uid("confirm");
    const yes = h("button", { type: "button", class: "danger solid" }, "Remove webhook");
    const no = h("button", { type: "button" }, "Cancel");
    const box = h(
      "div",
      { class: "confirm", role: "group", "aria-labelledby": textId, hidden: true },
      h("p", { id: textId }, `Remove “${name}”? Its URL will stop working at once.`),
      h("div", { class: "actions" }, yes, no),
    );
    no.addEventListener("click", () => {
      box.hidden = true;
      removeButton.focus();
    });
    yes.addEventListener("click", () => {
      problem.replaceChildren();
      yes.disabled = no.disabled = true;
      yes.textContent = "Removing…";
      this.api
        .removeHook(this.roomId, item.id)
        .then(() => {
          this.remember(item.id, null);
          announce(`Webhook ${name} removed`);
          this.listTitle.focus();
        })
        .catch((err: unknown) => {
          problem.replaceChildren(problemBox(describe(err)));
          yes.disabled = no.disabled = false;
          yes.textContent = "Remove webhook";
        });
    });
    return box;
  }

  private buildEditor(
    item: HookItem,
    id: string,
    problem: HTMLElement,
    card: Card,
  ): HTMLFormElement {
    const allowJs = this.config.allowJsTransformationFunctions === true;
    const existingFn =
      typeof item.config.transformationFunction === "string"
        ? item.config.transformationFunction
        : "";
    const expiry = this.expiryField("Expires", expiryOf(item, this.fetchedAt));

    const waitId = uid("wait");
    const forced = this.config.waitForComplete === true;
    const wait = h("input", {
      id: waitId,
      type: "checkbox",
      name: "waitForComplete",
      checked: forced || item.config.waitForComplete === true,
      disabled: forced,
      "aria-describedby": `${waitId}-hint`,
    });
    const waitField = h(
      "div",
      { class: "field check" },
      wait,
      h("label", { for: waitId }, "Answer the sender only after the message is sent"),
      h(
        "p",
        { id: `${waitId}-hint`, class: "hint" },
        forced
          ? "Always on for this bridge."
          : "The request waits until the message is in the room (or the transformation failed).",
      ),
    );

    const form = h("form", {
      id,
      class: "edit",
      hidden: true,
      "aria-label": `Edit ${item.config.name}`,
      novalidate: true,
    });
    form.append(expiry.field, waitField);

    let fnToggle: HTMLInputElement | null = null;
    let fnText: HTMLTextAreaElement | null = null;
    if (allowJs) {
      const toggleId = uid("fn-on");
      const textId = uid("fn");
      const hintId = uid("fn-hint");
      const toggle = h("input", { id: toggleId, type: "checkbox", checked: existingFn !== "" });
      const text = h("textarea", {
        id: textId,
        class: "mono",
        rows: 12,
        wrap: "off",
        spellcheck: "false",
        autocapitalize: "off",
        "aria-describedby": hintId,
        value: existingFn || EXAMPLE_SCRIPT,
      });
      const fnField = h(
        "div",
        { class: "field", hidden: existingFn === "" },
        h("label", { for: textId }, "Transformation function (JavaScript)"),
        text,
        h(
          "p",
          { id: hintId, class: "hint" },
          "The request body is ",
          h("code", {}, "data"),
          "; set ",
          h("code", {}, "result"),
          " (version “v2”). See the ",
          h(
            "a",
            { href: DOCS, target: "_blank", rel: "noopener noreferrer" },
            "script API documentation",
          ),
          ".",
        ),
      );
      toggle.addEventListener("change", () => {
        fnField.hidden = !toggle.checked;
      });
      form.append(
        h(
          "div",
          { class: "field check" },
          toggle,
          h("label", { for: toggleId }, "Transform requests with a JavaScript function"),
        ),
        fnField,
      );
      fnToggle = toggle;
      fnText = text;
    } else if (existingFn) {
      form.append(
        h(
          "p",
          { class: "alert info" },
          "This webhook has a transformation function, but this bridge does not run JavaScript functions; it is kept as it is.",
        ),
      );
    }

    const save = h("button", { type: "submit", class: "primary" }, "Save");
    const cancel = h("button", { type: "button" }, "Cancel");
    cancel.addEventListener("click", () => {
      form.hidden = true;
      card.editButton.setAttribute("aria-expanded", "false");
      card.editButton.focus();
    });
    form.append(h("div", { class: "actions" }, save, cancel));

    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      problem.replaceChildren();
      const expires = fromLocalInput(expiry.input.value);
      if (this.config.requireExpiryTime && !expires) {
        problem.replaceChildren(
          problemBox({
            title: "Check the expiry date",
            detail: "Webhooks on this bridge must have an expiry date.",
            code: "EXPIRY",
          }),
        );
        expiry.input.focus();
        return;
      }
      const body: Record<string, unknown> = {
        expirationDate: expires ? expires.toISOString() : null,
      };
      if (!forced) body.waitForComplete = wait.checked;
      if (fnToggle && fnText) {
        body.transformationFunction = fnToggle.checked && fnText.value.trim() ? fnText.value : null;
      }
      save.disabled = true;
      save.textContent = "Saving…";
      this.api
        .updateHook(this.roomId, item.id, body)
        .then((updated) => {
          this.remember(updated.id, {
            ...updated,
            canEdit: item.canEdit,
            canSendMessages: item.canSendMessages,
          });
          announce(`Webhook ${item.config.name} saved`);
          this.cards.get(updated.id)?.editButton.focus();
        })
        .catch((err: unknown) => {
          problem.replaceChildren(problemBox(describe(err)));
          save.disabled = false;
          save.textContent = "Save";
        });
    });
    return form;
  }
}
