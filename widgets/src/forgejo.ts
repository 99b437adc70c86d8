// Forgejo and Gitea repositories connected to one room: list, add (instance + owner/name or
// the repository's URL; the bridge checks it with the token the user gave the bot), switch
// threads and CI reactions, remove. The events and the command prefix are set by hand
// (docs/forgejo.md); an edit here keeps them.
import { type BridgeApi, type ConnectionItem, FORGEJO_REPO_EVENT } from "./bridgeApi";
import { announce, h, uid } from "./dom";
import { threadBadges, threadsField } from "./repoThreads";
import {
  busyButton,
  CardControls,
  CardList,
  field,
  invalid,
  listNotices,
  sectionHead,
  showProblem,
} from "./ui";

interface ForgejoRepoConfig {
  instance?: string;
  owner?: string;
  repo?: string;
  enableHooks?: string[];
  commandPrefix?: string;
  [key: string]: unknown;
}
type ForgejoItem = ConnectionItem<ForgejoRepoConfig>;

/** GET /v1/service/forgejo/config: the configured instances, name -> base URL. */
export interface ForgejoConfig {
  instances?: Record<string, string>;
}

const DEFAULT_PREFIX = "!forgejo";
const SHOWN_EVENTS = 10;

const repoName = (c: ForgejoRepoConfig): string => `${c.owner ?? ""}/${c.repo ?? ""}`;

/**
 * Where a typed repository is: "owner/name" on the chosen instance, or a URL on one of the
 * configured instances (which then wins). Null when it is neither.
 */
export function parseForgejoRepo(
  text: string,
  chosen: string,
  instances: Record<string, string>,
): { instance: string; owner: string; repo: string } | null {
  let value = text.trim().replace(/\/+$/, "");
  let instance = chosen;
  if (/^[a-z]+:\/\//i.test(value)) {
    const base = Object.entries(instances).find(([, url]) =>
      value.toLowerCase().startsWith(`${url.replace(/\/+$/, "").toLowerCase()}/`),
    );
    if (!base) return null;
    instance = base[0];
    value = value.slice(base[1].replace(/\/+$/, "").length + 1);
  }
  const m = /^([^/\s]+)\/([^/\s?#]+?)(?:\.git)?$/.exec(value);
  return m && instance ? { instance, owner: m[1], repo: m[2] } : null;
}

export class ForgejoView {
  readonly root: HTMLElement;
  private readonly list: CardList<ForgejoItem>;
  private readonly listTitle: HTMLHeadingElement;
  private readonly emptyEl: HTMLParagraphElement;
  private readonly noticeEl: HTMLDivElement;
  private readonly listProblem: HTMLDivElement;
  private readonly createForm: HTMLFormElement;
  private readonly instances: Record<string, string>;
  private canEdit = false;

  constructor(
    private readonly api: BridgeApi,
    private readonly roomId: string,
    config: ForgejoConfig,
  ) {
    const titleId = uid("forgejo-title");
    const listTitleId = uid("forgejo-list");
    this.instances =
      config.instances && typeof config.instances === "object" ? config.instances : {};
    this.listTitle = h("h3", { id: listTitleId, tabindex: -1 }, "Connected repositories");
    this.list = new CardList<ForgejoItem>(
      listTitleId,
      (item) => this.buildCard(item),
      () => this.changed(),
    );
    this.emptyEl = h(
      "p",
      { class: "empty", hidden: true },
      "No Forgejo or Gitea repositories are connected to this room yet.",
    );
    this.noticeEl = h("div", { class: "notices" });
    this.listProblem = h("div", {});
    this.createForm = this.buildCreateForm();
    this.root = h(
      "section",
      { class: "service", "aria-labelledby": titleId, "data-service": "forgejo" },
      sectionHead(titleId, "Forgejo / Gitea repositories", () => {
        this.load().then(
          () => announce("Forgejo repositories refreshed"),
          () => undefined,
        );
      }),
      h(
        "p",
        { class: "lede" },
        "A connected repository posts its issues, pull requests, releases and action runs here, and takes commands such as !forgejo create.",
      ),
      this.noticeEl,
      this.listProblem,
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
      const listing = await this.api.list<ForgejoItem>(this.roomId, "forgejo");
      this.canEdit = listing.canEdit;
      this.list.set(listing.connections);
    } catch (err) {
      showProblem(this.listProblem, err);
      throw err;
    } finally {
      this.root.removeAttribute("aria-busy");
    }
  }

  private changed(): void {
    const n = this.list.items.length;
    this.createForm.hidden = !this.canEdit;
    this.noticeEl.replaceChildren(
      ...listNotices(
        this.canEdit,
        "Forgejo repositories",
        this.list.items.some((i) => i.canSendMessages === false),
      ),
    );
    this.listTitle.replaceChildren("Connected repositories");
    if (n) this.listTitle.append(h("span", { class: "count" }, ` (${n})`));
    this.emptyEl.hidden = n > 0;
  }

  private buildCreateForm(): HTMLFormElement {
    const titleId = uid("forgejo-create");
    const names = Object.keys(this.instances);
    const instance = field(
      "select",
      "Instance",
      {},
      {
        children: names.map((n) => h("option", { value: n }, `${n} (${this.instances[n]})`)),
        hint: "A repository URL picks its instance itself.",
      },
    );
    const repo = field(
      "input",
      "Repository",
      { type: "text", autocomplete: "off", spellcheck: "false", placeholder: "owner/name" },
      { hint: "Owner and name, e.g. forgejo/forgejo, or the repository's URL." },
    );
    const threads = threadsField({});
    const error = h("div", { class: "form-error" });
    const submit = h("button", { type: "submit", class: "primary" }, "Add repository");
    const form = h(
      "form",
      { class: "card create", "aria-labelledby": titleId, novalidate: true },
      h("h3", { id: titleId }, "Connect a repository"),
      h(
        "p",
        { class: "hint" },
        "The bridge checks that you may push to it, with the token you gave the bot: DM it ",
        h("code", {}, "forgejo personaltoken <instance> <token>"),
        " first. Then add a webhook to the repository pointing to this bridge's /forgejo/webhook.",
      ),
      instance.field,
      repo.field,
      threads.el,
      error,
      h("div", { class: "actions" }, submit),
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      error.replaceChildren();
      const where = parseForgejoRepo(repo.input.value, instance.input.value, this.instances);
      if (!where) {
        invalid(
          error,
          repo.input,
          "Check the repository",
          "Write it as owner/name, or paste its URL on one of the instances listed.",
          "REPO",
        );
        return;
      }
      repo.input.removeAttribute("aria-invalid");
      const values = threads.values();
      const body: Record<string, unknown> = { ...where };
      if (values.threads) body.threads = true;
      if (values.ciReactions) body.ciReactions = true;
      const restore = busyButton(submit, "Adding…");
      this.api
        .create<ForgejoItem>(this.roomId, FORGEJO_REPO_EVENT, body)
        .then((item) => {
          repo.input.value = "";
          this.list.remember(item.id, item);
          announce(`${repoName(item.config)} connected to this room`);
          this.list.card(item.id)?.querySelector<HTMLElement>("[data-focus=edit]")?.focus();
        })
        .catch((err: unknown) => showProblem(error, err))
        .finally(restore);
    });
    return form;
  }

  private buildCard(item: ForgejoItem): HTMLElement {
    const c = item.config;
    const name = repoName(c);
    const headingId = uid("forgejo-repo");
    const hooks = Array.isArray(c.enableHooks) ? c.enableHooks : [];
    const shown = hooks.slice(0, SHOWN_EVENTS);
    const badges = [
      ...(c.instance ? [h("span", { class: "badge" }, c.instance)] : []),
      ...threadBadges(c),
    ];
    const li = h(
      "li",
      { class: "card hook", "data-connection-id": item.id, "aria-labelledby": headingId },
      h(
        "div",
        { class: "hook-head" },
        h("h4", { id: headingId, class: "hook-name" }, name),
        badges.length ? h("span", { class: "badges" }, ...badges) : null,
      ),
      hooks.length
        ? h(
            "div",
            { class: "meta" },
            h("span", {}, `${hooks.length} ${hooks.length === 1 ? "event" : "events"}: `),
            h(
              "ul",
              { class: "chips", "aria-label": `Events of ${name}` },
              ...shown.map((hook) => h("li", {}, h("code", {}, hook))),
              hooks.length > shown.length
                ? h("li", {}, `and ${hooks.length - shown.length} more`)
                : null,
            ),
          )
        : h("p", { class: "meta" }, "No events: nothing is posted."),
      h(
        "p",
        { class: "meta" },
        "Commands start with ",
        h("code", {}, c.commandPrefix || DEFAULT_PREFIX),
      ),
    );
    const problem = h("div", {});
    if (item.canEdit !== false && this.canEdit) {
      const controls = new CardControls({
        name,
        question: `Disconnect ${name} from this room? Its events stop coming here at once.`,
        confirmText: "Remove repository",
        problem,
        remove: async () => {
          await this.api.remove(this.roomId, item.id);
          this.list.remember(item.id, null);
          announce(`${name} removed from this room`);
          this.listTitle.focus();
        },
        editor: (ctl) => this.buildEditor(item, problem, ctl),
      });
      li.append(...controls.nodes);
    }
    li.append(problem);
    return li;
  }

  private buildEditor(
    item: ForgejoItem,
    problem: HTMLElement,
    controls: CardControls,
  ): HTMLElement {
    const name = repoName(item.config);
    const threads = threadsField(item.config);
    const save = h("button", { type: "submit", class: "primary" }, "Save");
    const cancel = h("button", { type: "button", onclick: () => controls.closeEditor() }, "Cancel");
    const form = h(
      "form",
      { class: "edit", "aria-label": `Edit ${name}`, novalidate: true },
      threads.el,
      h("div", { class: "actions" }, save, cancel),
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      problem.replaceChildren();
      const restore = busyButton(save, "Saving…");
      this.api
        .update<ForgejoItem>(this.roomId, item.id, { ...threads.values() })
        .then((updated) => {
          this.list.remember(updated.id, {
            ...updated,
            canEdit: item.canEdit,
            canSendMessages: item.canSendMessages,
          });
          announce(`${name} saved`);
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
