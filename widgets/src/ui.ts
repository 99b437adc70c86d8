// Pieces every page uses: alerts, copy buttons, form fields, the list of connection cards
// (with our own changes kept over a stale listing) and a card's Edit/Remove controls.
import { announce, h, uid } from "./dom";
import { describe, type Problem } from "./messages";

// Our own changes win over a listing for this long: the bridge applies them when the room
// state echo arrives, which may be after the next listing.
const OVERRIDE_MS = 30_000;

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

/** Show `err` in `where` (replacing what was there). */
export function showProblem(where: HTMLElement, err: unknown): void {
  where.replaceChildren(problemBox(describe(err)));
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

/** A read-only field with a Copy button: `label` names it, `of` says whose it is. */
export function copyField(
  label: string,
  of: string,
  value: string,
  idle: string,
  cls = "",
): HTMLElement {
  const id = uid("copy");
  const input = h("input", {
    id,
    class: `mono ${cls}`.trim(),
    type: "text",
    readonly: true,
    value,
    spellcheck: "false",
    onfocus: (ev: Event) => (ev.target as HTMLInputElement).select(),
  });
  const button = h(
    "button",
    { type: "button" },
    idle,
    h("span", { class: "visually-hidden" }, ` of ${of}`),
  );
  button.addEventListener("click", () => {
    void copyText(input.value, input).then((ok) => {
      button.firstChild!.textContent = ok ? "Copied" : "Copy failed";
      announce(
        ok
          ? `${label} of ${of} copied`
          : `Could not copy: select the ${label.toLowerCase()} and copy it yourself`,
      );
      window.setTimeout(() => {
        button.firstChild!.textContent = idle;
      }, 2000);
    });
  });
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label, h("span", { class: "visually-hidden" }, ` of ${of}`)),
    h("div", { class: "url-row" }, input, button),
  );
}

type Attrs = Parameters<typeof h>[1];

/** A labelled input (or textarea) with an optional hint wired to aria-describedby. */
export function field<K extends "input" | "textarea" | "select">(
  tag: K,
  label: string,
  attrs: Attrs,
  opts: { hint?: Node | string; optional?: boolean; children?: Node[] } = {},
): { field: HTMLElement; input: HTMLElementTagNameMap[K] } {
  const id = uid(tag);
  const hintId = opts.hint ? uid("hint") : null;
  const input = h(tag, { id, "aria-describedby": hintId, ...attrs }, ...(opts.children ?? []));
  return {
    input,
    field: h(
      "div",
      { class: "field" },
      h(
        "label",
        { for: id },
        label,
        opts.optional ? h("span", { class: "optional" }, " (optional)") : null,
      ),
      input,
      hintId ? h("p", { id: hintId, class: "hint" }, opts.hint!) : null,
    ),
  };
}

/** A checkbox with its label to the right. */
export function checkField(
  label: Node | string,
  attrs: Attrs,
  hint?: string,
): { field: HTMLElement; input: HTMLInputElement } {
  const id = uid("check");
  const hintId = hint ? uid("hint") : null;
  const input = h("input", { id, type: "checkbox", "aria-describedby": hintId, ...attrs });
  return {
    input,
    field: h(
      "div",
      { class: "field check" },
      input,
      h("label", { for: id }, label),
      hint ? h("p", { id: hintId, class: "hint" }, hint) : null,
    ),
  };
}

/** Mark `button` busy with `text`; the returned function restores it. */
export function busyButton(button: HTMLButtonElement, text: string): () => void {
  const before = button.textContent ?? "";
  button.disabled = true;
  button.textContent = text;
  return () => {
    button.disabled = false;
    button.textContent = before;
  };
}

/** Mark an input invalid and show why in `where`; false, for `return invalid(...)`. */
export function invalid(
  where: HTMLElement,
  input: HTMLElement,
  title: string,
  detail: string,
  code: string,
): false {
  input.setAttribute("aria-invalid", "true");
  where.replaceChildren(problemBox({ title, detail, code }));
  input.focus();
  return false;
}

/** Connection names (webhooks, outbound hooks): the bridge's length rule. */
export const NAME_MIN = 3;
export const NAME_MAX = 64;

/** The trimmed name in `input`, or null after showing why it is refused. */
export function checkedName(where: HTMLElement, input: HTMLInputElement): string | null {
  const value = input.value.trim();
  if (value.length < NAME_MIN || value.length > NAME_MAX) {
    invalid(
      where,
      input,
      "Check the name",
      `A name must be ${NAME_MIN}–${NAME_MAX} characters long.`,
      "NAME",
    );
    return null;
  }
  input.removeAttribute("aria-invalid");
  return value;
}

/**
 * A room's connections of one kind as a list of cards, keyed by connection id. Our own
 * changes (`remember`) win over listings for a while; unchanged cards are kept, so an open
 * editor keeps what the user typed.
 */
export class CardList<T extends { id: string }> {
  readonly el: HTMLUListElement;
  items: T[] = [];
  private readonly cards = new Map<string, { el: HTMLElement; key: string }>();
  private readonly overrides = new Map<string, { item: T | null; at: number }>();

  constructor(
    labelledBy: string,
    private readonly build: (item: T) => HTMLElement,
    private readonly changed: () => void,
  ) {
    this.el = h("ul", { class: "hooks", "aria-labelledby": labelledBy });
  }

  /** A fresh listing from the bridge. */
  set(listed: T[]): void {
    const now = Date.now();
    for (const [id, o] of this.overrides) if (now - o.at > OVERRIDE_MS) this.overrides.delete(id);
    const out: T[] = [];
    const seen = new Set<string>();
    for (const item of listed) {
      seen.add(item.id);
      const o = this.overrides.get(item.id);
      if (!o) out.push(item);
      else if (o.item) out.push(o.item);
    }
    for (const [id, o] of this.overrides) if (o.item && !seen.has(id)) out.push(o.item);
    this.items = out;
    this.render();
  }

  /** Our own change: `item` created or updated, or null for removed. */
  remember(id: string, item: T | null): void {
    this.overrides.set(id, { item, at: Date.now() });
    const at = this.items.findIndex((i) => i.id === id);
    if (item && at >= 0) this.items[at] = item;
    else if (item) this.items.push(item);
    else if (at >= 0) this.items.splice(at, 1);
    this.render();
  }

  card(id: string): HTMLElement | undefined {
    return this.cards.get(id)?.el;
  }

  /** Rebuild every card (e.g. after a setting they show changed). */
  rebuild(): void {
    this.cards.forEach((c) => (c.key = ""));
    this.render();
  }

  private render(): void {
    const wanted = new Set(this.items.map((i) => i.id));
    for (const [id, card] of this.cards) {
      if (!wanted.has(id)) {
        card.el.remove();
        this.cards.delete(id);
      }
    }
    this.items.forEach((item, index) => {
      const key = JSON.stringify(item);
      let card = this.cards.get(item.id);
      if (!card || card.key !== key) {
        const fresh = { el: this.build(item), key };
        if (card) card.el.replaceWith(fresh.el);
        card = fresh;
        this.cards.set(item.id, card);
      }
      if (this.el.children[index] !== card.el) {
        this.el.insertBefore(card.el, this.el.children[index] ?? null);
      }
    });
    this.changed();
  }
}

/**
 * A card's Edit and Remove buttons: Edit toggles `editor`, Remove opens an inline
 * confirmation that runs `remove`. `extra` buttons go between them.
 */
export class CardControls {
  readonly editButton: HTMLButtonElement;
  readonly nodes: HTMLElement[];
  private editor: HTMLElement | null = null;

  constructor(opts: {
    name: string;
    question: string;
    confirmText: string;
    problem: HTMLElement;
    remove: () => Promise<void>;
    editor?: (controls: CardControls) => HTMLElement;
    extra?: HTMLElement[];
  }) {
    const suffix = (): HTMLElement => h("span", { class: "visually-hidden" }, ` ${opts.name}`);
    const editId = uid("edit");
    this.editButton = h(
      "button",
      { type: "button", "aria-expanded": "false", "aria-controls": editId, "data-focus": "edit" },
      "Edit",
      suffix(),
    );
    const removeButton = h("button", { type: "button", class: "danger" }, "Remove", suffix());
    const textId = uid("confirm");
    const yes = h("button", { type: "button", class: "danger solid" }, opts.confirmText);
    const no = h("button", { type: "button" }, "Cancel");
    const confirm = h(
      "div",
      { class: "confirm", role: "group", "aria-labelledby": textId, hidden: true },
      h("p", { id: textId }, opts.question),
      h("div", { class: "actions" }, yes, no),
    );
    no.addEventListener("click", () => {
      confirm.hidden = true;
      removeButton.focus();
    });
    yes.addEventListener("click", () => {
      opts.problem.replaceChildren();
      yes.disabled = no.disabled = true;
      yes.textContent = "Removing…";
      opts.remove().catch((err: unknown) => {
        showProblem(opts.problem, err);
        yes.disabled = no.disabled = false;
        yes.textContent = opts.confirmText;
      });
    });
    removeButton.addEventListener("click", () => {
      confirm.hidden = false;
      this.closeEditor(false);
      yes.focus();
    });
    const buttons: HTMLElement[] = [];
    if (opts.editor) {
      this.editor = opts.editor(this);
      this.editor.id = editId;
      this.editor.hidden = true;
      this.editButton.addEventListener("click", () => {
        const open = this.editor!.hidden;
        this.editor!.hidden = !open;
        confirm.hidden = true;
        this.editButton.setAttribute("aria-expanded", String(open));
        if (open) this.editor!.querySelector<HTMLElement>("input, textarea, select")?.focus();
      });
      buttons.push(this.editButton);
    }
    buttons.push(...(opts.extra ?? []), removeButton);
    this.nodes = [h("div", { class: "actions" }, ...buttons), confirm];
    if (this.editor) this.nodes.push(this.editor);
  }

  closeEditor(focus = true): void {
    if (!this.editor) return;
    this.editor.hidden = true;
    this.editButton.setAttribute("aria-expanded", "false");
    if (focus) this.editButton.focus();
  }
}

/** The "you may look but not change" and "bot cannot send" notices above a list. */
export function listNotices(canEdit: boolean, noun: string, botMuted: boolean): Node[] {
  const notices: Node[] = [];
  if (!canEdit) {
    notices.push(
      h(
        "p",
        { class: "alert info" },
        `You can see this room's ${noun}, but adding or changing them needs a higher power level in this room.`,
      ),
    );
  }
  if (botMuted) {
    notices.push(
      h(
        "div",
        { class: "alert warning", "data-errcode": "BOT_CANNOT_SEND" },
        h("p", { class: "alert-title" }, "The bot cannot send messages here"),
        h(
          "p",
          {},
          "Its power level is below what this room needs to send messages, so messages will not arrive. Raise the bot's power level in the room settings.",
        ),
      ),
    );
  }
  return notices;
}

/** A section's heading row with a Refresh button. */
export function sectionHead(titleId: string, title: string, refresh: () => void): HTMLElement {
  return h(
    "div",
    { class: "section-head" },
    h("h2", { id: titleId }, title),
    h("button", { type: "button", class: "ghost", onclick: refresh }, "Refresh"),
  );
}
