// Outbound webhooks of one room: the room's events are sent to a URL. List, create (the
// token the receiver checks is shown once), remove.
import { type BridgeApi, BridgeError, type ConnectionItem, OUTBOUND_HOOK_EVENT } from "./bridgeApi";
import { announce, h, uid } from "./dom";
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

type OutboundItem = ConnectionItem<
  { name: string; url: string; method?: string },
  { token?: string }
>;

const HEADER = "X-Matrix-Hookshot-Token";

export class OutboundView {
  readonly root: HTMLElement;
  private readonly section: ConnectionSection<OutboundItem>;
  private readonly tokenEl: HTMLDivElement;

  constructor(api: BridgeApi, roomId: string) {
    this.section = new ConnectionSection<OutboundItem>(api, roomId, {
      service: "genericOutbound",
      listTitle: "Outbound webhooks in this room",
      empty: "No outbound webhooks in this room yet.",
      noun: "outbound webhooks",
      build: (item) => this.buildCard(item),
      botNotice: false,
      canEdit: true,
    });
    this.tokenEl = h("div", {});
    this.root = this.section.frame({
      title: "Outbound webhooks",
      lede: "An outbound webhook sends this room's messages and events to a URL of yours, as JSON.",
      above: this.tokenEl,
      form: this.buildCreateForm(),
      refresh: () => this.load(),
      refreshed: "Outbound webhooks refreshed",
    });
  }

  load(): Promise<void> {
    return this.section.load({
      recover: (err) => {
        if (!(err instanceof BridgeError && err.errcode === "HS_NOTFOUND")) return false;
        // A bridge that cannot list them yet: what we add is still shown until a reload.
        this.section.problem.replaceChildren(
          h(
            "p",
            { class: "alert info", "data-errcode": err.errcode },
            "This bridge does not list outbound webhooks; the ones you add here are shown until you reload.",
          ),
        );
        this.section.list.set([]);
        return true;
      },
    });
  }

  private buildCreateForm(): HTMLFormElement {
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
    return this.section.createForm({
      title: "New outbound webhook",
      submit: "Add outbound webhook",
      fields: [
        name.field,
        url.field,
        h(
          "fieldset",
          { class: "field choice inline" },
          h("legend", {}, "Method"),
          ...methods.map((m) => m.field),
        ),
      ],
      eventType: OUTBOUND_HOOK_EVENT,
      body: (error) => {
        const value = checkedName(error, name.input);
        if (value === null) return null;
        const target = url.input.value.trim();
        if (!/^https?:\/\/[^/\s]+/i.test(target)) {
          invalid(
            error,
            url.input,
            "Check the URL",
            "Give a full http:// or https:// address.",
            "URL",
          );
          return null;
        }
        url.input.removeAttribute("aria-invalid");
        const method = methods.find((m) => m.input.checked)?.input.value ?? "PUT";
        return { name: value, url: target, method };
      },
      done: (item, form) => {
        form.reset();
        this.section.list.remember(item.id, { ...item, secrets: undefined });
        const token = item.secrets?.token;
        if (token) this.showToken(item.config.name, token);
        else announce(`Outbound webhook ${item.config.name} added`);
      },
    });
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
      this.section.listTitle.focus();
    });
    this.tokenEl.replaceChildren(box);
    announce(`Outbound webhook ${name} added. Copy its token now: it is not shown again.`);
    box.querySelector<HTMLInputElement>("input")?.focus();
  }

  private buildCard(item: OutboundItem): HTMLElement {
    const name = item.config.name;
    const method = item.config.method ?? "PUT";
    const li = card(
      { "data-connection-id": item.id },
      name,
      h("span", { class: "badges" }, h("span", { class: "badge mono" }, method)),
      h("p", { class: "target mono" }, item.config.url),
    );
    const problem = h("div", {});
    if (this.section.editable(item)) {
      const controls = new CardControls({
        name,
        question: `Remove “${name}”? The room's events stop going to its URL at once.`,
        confirmText: "Remove outbound webhook",
        problem,
        remove: this.section.removal(item, `Outbound webhook ${name} removed`, () =>
          this.tokenEl.querySelector(`[data-token-for="${CSS.escape(name)}"]`)?.remove(),
        ),
      });
      li.append(...controls.nodes);
    }
    li.append(problem);
    return li;
  }
}
