// Outbound webhooks of one room: the room's events are sent to a URL. List, create (the
// token the receiver checks is shown once), remove.
import { type BridgeApi, BridgeError, type ConnectionItem, OUTBOUND_HOOK_EVENT } from "./bridgeApi";
import { announce, h, uid } from "./dom";
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

type OutboundItem = ConnectionItem<
  { name: string; url: string; method?: string },
  { token?: string }
>;

const HEADER = "X-Matrix-Hookshot-Token";

export class OutboundView {
  readonly root: HTMLElement;
  private readonly list: CardList<OutboundItem>;
  private readonly listTitle: HTMLHeadingElement;
  private readonly emptyEl: HTMLParagraphElement;
  private readonly noticeEl: HTMLDivElement;
  private readonly listProblem: HTMLDivElement;
  private readonly createForm: HTMLFormElement;
  private readonly tokenEl: HTMLDivElement;
  private canEdit = true;

  constructor(
    private readonly api: BridgeApi,
    private readonly roomId: string,
  ) {
    const titleId = uid("out-title");
    const listTitleId = uid("out-list");
    this.listTitle = h("h3", { id: listTitleId, tabindex: -1 }, "Outbound webhooks in this room");
    this.list = new CardList<OutboundItem>(
      listTitleId,
      (item) => this.buildCard(item),
      () => this.changed(),
    );
    this.emptyEl = h(
      "p",
      { class: "empty", hidden: true },
      "No outbound webhooks in this room yet.",
    );
    this.noticeEl = h("div", { class: "notices" });
    this.listProblem = h("div", {});
    this.tokenEl = h("div", {});
    this.createForm = this.buildCreateForm();
    this.root = h(
      "section",
      { class: "service", "aria-labelledby": titleId, "data-service": "genericOutbound" },
      sectionHead(titleId, "Outbound webhooks", () => {
        this.load().then(
          () => announce("Outbound webhooks refreshed"),
          () => undefined,
        );
      }),
      h(
        "p",
        { class: "lede" },
        "An outbound webhook sends this room's messages and events to a URL of yours, as JSON.",
      ),
      this.noticeEl,
      this.listProblem,
      this.tokenEl,
      this.createForm,
      this.listTitle,
      this.emptyEl,
      this.list.el,
    );
  }

  async load(): Promise<void> {
    this.root.setAttribute("aria-busy", "true");
    this.listProblem.replaceChildren();
    try {
      const listing = await this.api.list<OutboundItem>(this.roomId, "genericOutbound");
      this.canEdit = listing.canEdit;
      this.list.set(listing.connections);
    } catch (err) {
      if (err instanceof BridgeError && err.errcode === "HS_NOTFOUND") {
        // A bridge that cannot list them yet: what we add is still shown until a reload.
        this.listProblem.replaceChildren(
          h(
            "p",
            { class: "alert info", "data-errcode": err.errcode },
            "This bridge does not list outbound webhooks; the ones you add here are shown until you reload.",
          ),
        );
        this.list.set([]);
        return;
      }
      showProblem(this.listProblem, err);
      throw err;
    } finally {
      this.root.removeAttribute("aria-busy");
    }
  }

  private changed(): void {
    const n = this.list.items.length;
    this.createForm.hidden = !this.canEdit;
    this.noticeEl.replaceChildren(...listNotices(this.canEdit, "outbound webhooks", false));
    this.listTitle.replaceChildren("Outbound webhooks in this room");
    if (n) this.listTitle.append(h("span", { class: "count" }, ` (${n})`));
    this.emptyEl.hidden = n > 0;
  }

  private buildCreateForm(): HTMLFormElement {
    const titleId = uid("out-create");
    const name = field(
      "input",
      "Name",
      {
        type: "text",
        required: true,
        minlength: NAME_MIN,
        maxlength: NAME_MAX,
        autocomplete: "off",
        spellcheck: "false",
        placeholder: "e.g. archive",
      },
      { hint: `${NAME_MIN}–${NAME_MAX} characters.` },
    );
    const url = field(
      "input",
      "URL",
      {
        type: "url",
        required: true,
        inputmode: "url",
        autocomplete: "off",
        spellcheck: "false",
        placeholder: "https://example.com/matrix-events",
      },
      { hint: "An http or https address. The bridge sends each event to it." },
    );
    const group = uid("method");
    const methods = ["PUT", "POST"].map((m) =>
      checkField(h("span", { class: "mono" }, m), {
        type: "radio",
        name: group,
        value: m,
        checked: m === "PUT",
      }),
    );
    methods[0].input.defaultChecked = true; // what the form goes back to after an add
    const error = h("div", { class: "form-error" });
    const submit = h("button", { type: "submit", class: "primary" }, "Add outbound webhook");
    const form = h(
      "form",
      { class: "card create", "aria-labelledby": titleId, novalidate: true },
      h("h3", { id: titleId }, "New outbound webhook"),
      name.field,
      url.field,
      h(
        "fieldset",
        { class: "field choice inline" },
        h("legend", {}, "Method"),
        ...methods.map((m) => m.field),
      ),
      error,
      h("div", { class: "actions" }, submit),
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      error.replaceChildren();
      const value = checkedName(error, name.input);
      if (value === null) return;
      const target = url.input.value.trim();
      if (!/^https?:\/\/[^/\s]+/i.test(target)) {
        invalid(
          error,
          url.input,
          "Check the URL",
          "Give a full http:// or https:// address.",
          "URL",
        );
        return;
      }
      url.input.removeAttribute("aria-invalid");
      const method = methods.find((m) => m.input.checked)?.input.value ?? "PUT";
      const restore = busyButton(submit, "Adding…");
      this.api
        .create<OutboundItem>(this.roomId, OUTBOUND_HOOK_EVENT, {
          name: value,
          url: target,
          method,
        })
        .then((item) => {
          form.reset();
          this.list.remember(item.id, { ...item, secrets: undefined });
          const token = item.secrets?.token;
          if (token) this.showToken(item.config.name, token);
          else announce(`Outbound webhook ${item.config.name} added`);
        })
        .catch((err: unknown) => showProblem(error, err))
        .finally(restore);
    });
    return form;
  }

  /** The new hook's token, once: the receiver needs it to check requests. */
  private showToken(name: string, token: string): void {
    const titleId = uid("token-title");
    const done = h("button", { type: "button" }, "Done");
    const box = h(
      "div",
      {
        class: "alert ok token",
        role: "group",
        "aria-labelledby": titleId,
        "data-token-for": name,
      },
      h("p", { class: "alert-title", id: titleId }, `“${name}” added: copy its token now`),
      h(
        "p",
        {},
        "Every request carries it in the ",
        h("code", {}, HEADER),
        " header, so your service can check that it comes from this bridge. It is not shown again.",
      ),
      copyField("Token", name, token, "Copy token", "token"),
      h("div", { class: "actions" }, done),
    );
    done.addEventListener("click", () => {
      box.remove();
      this.listTitle.focus();
    });
    this.tokenEl.replaceChildren(box);
    announce(`Outbound webhook ${name} added. Copy its token now: it is not shown again.`);
    box.querySelector<HTMLInputElement>("input")?.focus();
  }

  private buildCard(item: OutboundItem): HTMLElement {
    const name = item.config.name;
    const headingId = uid("out");
    const method = item.config.method ?? "PUT";
    const li = h(
      "li",
      { class: "card hook", "data-connection-id": item.id, "aria-labelledby": headingId },
      h(
        "div",
        { class: "hook-head" },
        h("h4", { id: headingId, class: "hook-name" }, name),
        h("span", { class: "badges" }, h("span", { class: "badge mono" }, method)),
      ),
      h("p", { class: "target mono" }, item.config.url),
    );
    const problem = h("div", {});
    if (item.canEdit !== false && this.canEdit) {
      const controls = new CardControls({
        name,
        question: `Remove “${name}”? The room's events stop going to its URL at once.`,
        confirmText: "Remove outbound webhook",
        problem,
        remove: async () => {
          await this.api.remove(this.roomId, item.id);
          this.list.remember(item.id, null);
          this.tokenEl.querySelector(`[data-token-for="${CSS.escape(name)}"]`)?.remove();
          announce(`Outbound webhook ${name} removed`);
          this.listTitle.focus();
        },
      });
      li.append(...controls.nodes);
    }
    li.append(problem);
    return li;
  }
}
