// GitHub repositories and GitLab projects connected to one room: list, add (picked from the
// user's own, via GET /v1/targets/{eventType}, or typed by hand), edit events and command
// prefix, remove.
import {
  type BridgeApi,
  BridgeError,
  type ConnectionItem,
  GITHUB_REPO_EVENT,
  GITLAB_REPO_EVENT,
} from "./bridgeApi";
import { announce, h, uid } from "./dom";
import {
  GITHUB_DEFAULT_HOOKS,
  GITHUB_HOOK_GROUPS,
  GITLAB_DEFAULT_HOOKS,
  GITLAB_HOOK_GROUPS,
  type HookGroup,
} from "./hooks";
import { describe } from "./messages";
import { threadBadges, threadsField } from "./repoThreads";
import {
  busyButton,
  CardControls,
  CardList,
  checkField,
  field,
  invalid,
  listNotices,
  sectionHead,
  showProblem,
} from "./ui";

interface RepoConfig {
  org?: string;
  repo?: string;
  instance?: string;
  path?: string;
  enableHooks?: string[];
  commandPrefix?: string;
  [key: string]: unknown;
}
type RepoItem = ConnectionItem<RepoConfig>;

/** One entry of GET /v1/targets/{eventType}. */
interface Target {
  name: string;
  description?: string | null;
  instance?: string;
}

export interface ForgeConfig {
  newInstallationUrl?: string;
  /** GitLab instance names, if the bridge tells them. */
  instances?: string[] | Record<string, unknown>;
}

/** What differs between the GitHub and the GitLab page. */
interface Forge {
  service: "github" | "gitlab";
  title: string;
  noun: string;
  nouns: string;
  eventType: string;
  groups: readonly HookGroup[];
  defaults: readonly string[];
  defaultPrefix: string;
  docs: string;
  lede: string;
  login: string;
  name: (c: RepoConfig) => string;
  /** Its connections take `threads` and `ciReactions` (GitLab's do not yet). */
  threads: boolean;
}

const HOOKSHOT_DOCS =
  "https://matrix-org.github.io/matrix-hookshot/latest/usage/room_configuration";
const PREFIX_MIN = 2;
const PREFIX_MAX = 24;

export const GITHUB: Forge = {
  service: "github",
  title: "GitHub repositories",
  noun: "repository",
  nouns: "repositories",
  eventType: GITHUB_REPO_EVENT,
  groups: GITHUB_HOOK_GROUPS,
  defaults: GITHUB_DEFAULT_HOOKS,
  defaultPrefix: "!gh",
  docs: `${HOOKSHOT_DOCS}/github_repo.html`,
  lede: "A connected repository posts its issues, pull requests, releases and workflow runs here, and takes commands such as !gh create.",
  login: "github setpersonaltoken …",
  name: (c) => `${c.org ?? ""}/${c.repo ?? ""}`,
  threads: true,
};

export const GITLAB: Forge = {
  service: "gitlab",
  title: "GitLab projects",
  noun: "project",
  nouns: "projects",
  eventType: GITLAB_REPO_EVENT,
  groups: GITLAB_HOOK_GROUPS,
  defaults: GITLAB_DEFAULT_HOOKS,
  defaultPrefix: "!gl",
  docs: `${HOOKSHOT_DOCS}/gitlab_project.html`,
  lede: "A connected project (or group) posts its merge requests, pushes, releases, pipelines and issues here.",
  login: "gitlab personaltoken <instance> …",
  name: (c) => c.path ?? "",
  threads: false,
};

/** Does this refusal mean "the bridge has no token of yours" (or cannot list at all)? */
function needsLogin(err: unknown): boolean {
  if (!(err instanceof BridgeError)) return false;
  return (
    err.status === 404 ||
    err.errcode === "HS_NOTFOUND" ||
    err.errcode === "HS_NOT_FOUND" ||
    /not logged in|personal ?token|no token/i.test(err.message)
  );
}

/** "org/repo" from "org/repo", "https://github.com/org/repo(.git)" or similar. */
export function parseRepo(text: string): { org: string; repo: string } | null {
  const m = /^(?:[a-z]+:\/\/[^/]+\/)?([^/\s]+)\/([^/\s?#]+?)(?:\.git)?\/?$/i.exec(text.trim());
  return m ? { org: m[1], repo: m[2] } : null;
}

/** A GitLab path from "group/project" or the project's URL. */
function parsePath(text: string): string {
  let value = text.trim();
  if (/^[a-z]+:\/\//i.test(value)) {
    try {
      value = new URL(value).pathname.split("/-/")[0];
    } catch {
      // not a URL after all: taken as typed
    }
  }
  return value.replace(/^\/+|\/+$/g, "").replace(/\.git$/, "");
}

/** Checkboxes for `enableHooks`, one collapsible group per family. */
function eventsField(
  groups: readonly HookGroup[],
  selected: readonly string[],
): { el: HTMLElement; values: () => string[] } {
  const known = new Set(groups.flatMap((g) => g.hooks));
  // Names this widget does not offer stay as they are.
  const kept = selected.filter((s) => !known.has(s));
  const boxes: HTMLInputElement[] = [];
  const hintId = uid("events-hint");
  const sections = groups.map((group) => {
    const summaryId = uid("group");
    const count = h("span", { class: "count" });
    const inputs = group.hooks.map((hook) =>
      checkField(h("span", { class: "mono" }, hook), {
        value: hook,
        checked: selected.includes(hook),
      }),
    );
    const update = (): void => {
      const n = inputs.filter((i) => i.input.checked).length;
      count.textContent = ` ${n} of ${inputs.length}`;
    };
    inputs.forEach((i) => {
      i.input.addEventListener("change", update);
      boxes.push(i.input);
    });
    update();
    return h(
      "details",
      { class: "event-group" },
      h("summary", { id: summaryId }, group.label, count),
      h(
        "div",
        { class: "event-grid", role: "group", "aria-labelledby": summaryId },
        ...inputs.map((i) => i.field),
      ),
    );
  });
  const el = h(
    "fieldset",
    { class: "field events", "aria-describedby": hintId },
    h("legend", {}, "Events"),
    h(
      "p",
      { id: hintId, class: "hint" },
      "Which events are posted in this room. A name without a dot usually covers all of its kind.",
    ),
    ...sections,
  );
  return { el, values: () => [...boxes.filter((b) => b.checked).map((b) => b.value), ...kept] };
}

function prefixField(forge: Forge, value: string): { field: HTMLElement; input: HTMLInputElement } {
  return field(
    "input",
    "Command prefix",
    {
      type: "text",
      minlength: PREFIX_MIN,
      maxlength: PREFIX_MAX,
      autocomplete: "off",
      spellcheck: "false",
      placeholder: forge.defaultPrefix,
      value,
    },
    {
      optional: true,
      hint: `Commands about it start with this in the room (${PREFIX_MIN}–${PREFIX_MAX} characters). Empty: ${forge.defaultPrefix}.`,
    },
  );
}

/** The prefix typed, or null (none); false when it is the wrong length. */
function readPrefix(input: HTMLInputElement, problem: HTMLElement): string | null | false {
  const value = input.value.trim();
  if (!value) return null;
  if (value.length < PREFIX_MIN || value.length > PREFIX_MAX) {
    return invalid(
      problem,
      input,
      "Check the command prefix",
      `A command prefix must be ${PREFIX_MIN}–${PREFIX_MAX} characters long.`,
      "PREFIX",
    );
  }
  input.removeAttribute("aria-invalid");
  return value;
}

export class ReposView {
  readonly root: HTMLElement;
  private readonly list: CardList<RepoItem>;
  private readonly listTitle: HTMLHeadingElement;
  private readonly emptyEl: HTMLParagraphElement;
  private readonly noticeEl: HTMLDivElement;
  private readonly listProblem: HTMLDivElement;
  private readonly createForm: HTMLFormElement;
  private readonly afterCreate: HTMLDivElement;
  private canEdit = false;
  private targetsLoaded = false;
  // The create form's repository chooser (filled in by loadTargets).
  private readonly picker: HTMLDivElement;
  private readonly manual: HTMLDivElement;
  private readonly targetNote: HTMLDivElement;
  private targets: Target[] = [];
  private pick: HTMLSelectElement | null = null;
  private picking = false;
  private readonly instanceNames: string[];
  private manualFields: { read: (problem: HTMLElement) => Record<string, unknown> | null } | null =
    null;

  constructor(
    private readonly api: BridgeApi,
    private readonly roomId: string,
    private readonly forge: Forge,
    config: ForgeConfig,
  ) {
    const titleId = uid(`${forge.service}-title`);
    const listTitleId = uid(`${forge.service}-list`);
    const inst = config.instances;
    this.instanceNames = Array.isArray(inst) ? inst : inst ? Object.keys(inst) : [];
    this.listTitle = h("h3", { id: listTitleId, tabindex: -1 }, `Connected ${forge.nouns}`);
    this.list = new CardList<RepoItem>(
      listTitleId,
      (item) => this.buildCard(item),
      () => this.changed(),
    );
    this.emptyEl = h(
      "p",
      { class: "empty", hidden: true },
      `No ${forge.nouns} are connected to this room yet.`,
    );
    this.noticeEl = h("div", { class: "notices" });
    this.listProblem = h("div", {});
    this.afterCreate = h("div", {});
    this.picker = h("div", {});
    this.manual = h("div", {});
    this.targetNote = h("div", { class: "target-note" });
    this.createForm = this.buildCreateForm();
    this.root = h(
      "section",
      { class: "service", "aria-labelledby": titleId, "data-service": forge.service },
      sectionHead(titleId, forge.title, () => {
        this.targetsLoaded = false; // a token given to the bot meanwhile counts
        this.load().then(
          () => announce(`${forge.title} refreshed`),
          () => undefined,
        );
      }),
      h("p", { class: "lede" }, forge.lede),
      config.newInstallationUrl
        ? h(
            "p",
            { class: "hint" },
            "The bridge's GitHub App must be installed on a repository to receive its events: ",
            h(
              "a",
              { href: config.newInstallationUrl, target: "_blank", rel: "noopener noreferrer" },
              "install it",
            ),
            ".",
          )
        : null,
      this.noticeEl,
      this.listProblem,
      this.afterCreate,
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
      const listing = await this.api.list<RepoItem>(this.roomId, this.forge.service);
      this.canEdit = listing.canEdit;
      this.list.set(listing.connections);
      if (this.canEdit && !this.targetsLoaded) {
        this.targetsLoaded = true;
        void this.loadTargets();
      }
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
        `${this.forge.title.split(" ")[0]} ${this.forge.nouns}`,
        this.list.items.some((i) => i.canSendMessages === false),
      ),
    );
    this.listTitle.replaceChildren(`Connected ${this.forge.nouns}`);
    if (n) this.listTitle.append(h("span", { class: "count" }, ` (${n})`));
    this.emptyEl.hidden = n > 0;
  }

  // --- adding -----------------------------------------------------------------------------

  private async loadTargets(): Promise<void> {
    const forge = this.forge;
    this.picker.replaceChildren(
      h(
        "p",
        { class: "status", role: "status" },
        h("span", { class: "spinner", "aria-hidden": "true" }),
        `Loading your ${forge.nouns}…`,
      ),
    );
    try {
      const found = await this.api.targets<Target>(forge.eventType);
      this.targets = Array.isArray(found)
        ? found.filter((t) => t && typeof t.name === "string")
        : [];
      for (const t of this.targets)
        if (t.instance && !this.instanceNames.includes(t.instance))
          this.instanceNames.push(t.instance);
      if (this.targets.length) {
        this.buildPicker();
        this.buildManual(); // now with a way back to the list (and GitLab's instances)
        this.usePicker(true, false);
        return;
      }
      // GitLab leaves out instances without a token of yours: an empty list says as much.
      if (forge.service === "gitlab") this.showLogin();
      else
        this.targetNote.replaceChildren(
          h(
            "p",
            { class: "alert info" },
            `No ${forge.nouns} were found for your account. Type one below.`,
          ),
        );
    } catch (err) {
      if (needsLogin(err)) this.showLogin();
      else {
        const p = describe(err);
        this.targetNote.replaceChildren(
          h(
            "div",
            { class: "alert warning", "data-errcode": p.code },
            h("p", { class: "alert-title" }, `Could not list your ${forge.nouns}`),
            h("p", {}, `${p.detail} Type the ${forge.noun} below instead.`),
          ),
        );
      }
    }
    this.picker.replaceChildren();
    this.usePicker(false, false);
  }

  private showLogin(): void {
    this.targetNote.replaceChildren(
      h(
        "div",
        { class: "alert info", "data-state": "login" },
        h("p", { class: "alert-title" }, "Log in with the bot first"),
        h(
          "p",
          {},
          "To pick from your own ",
          this.forge.nouns,
          ", DM it ",
          h("code", {}, this.forge.login),
          ` (a personal access token). Or type the ${this.forge.noun} below.`,
        ),
      ),
    );
  }

  private buildPicker(): void {
    const forge = this.forge;
    const label = forge.noun[0].toUpperCase() + forge.noun.slice(1);
    const made = field(
      "select",
      label,
      { required: true },
      {
        children: [
          h("option", { value: "" }, `Choose one of your ${forge.nouns}…`),
          ...this.targets.map((t, i) => {
            const desc = t.description ? ` — ${t.description.slice(0, 60)}` : "";
            const where = t.instance ? ` (${t.instance})` : "";
            return h("option", { value: String(i) }, `${t.name}${where}${desc}`);
          }),
        ],
        hint: `${this.targets.length} of yours, as the bridge sees them with your token.`,
      },
    );
    this.pick = made.input;
    this.picker.replaceChildren(
      made.field,
      h(
        "button",
        { type: "button", class: "link", onclick: () => this.usePicker(false, true) },
        `Type a ${forge.noun} instead`,
      ),
    );
  }

  /** Choose from the list (true) or type by hand (false). */
  private usePicker(on: boolean, focus: boolean): void {
    this.picking = on && this.pick !== null;
    this.picker.hidden = !this.picking;
    this.manual.hidden = this.picking;
    if (focus)
      (this.picking ? this.pick : this.manual.querySelector<HTMLElement>("input, select"))?.focus();
  }

  private buildManual(): void {
    const forge = this.forge;
    const back = (): HTMLElement | null =>
      this.pick
        ? h(
            "button",
            { type: "button", class: "link", onclick: () => this.usePicker(true, true) },
            `Choose from your ${forge.nouns}`,
          )
        : null;
    if (forge.service === "github") {
      const repo = field(
        "input",
        "Repository",
        { type: "text", autocomplete: "off", spellcheck: "false", placeholder: "org/repo" },
        { hint: "Owner and name, e.g. matrix-org/matrix-hookshot, or the repository's URL." },
      );
      this.manual.replaceChildren(repo.field, back() ?? "");
      this.manualFields = {
        read: (problem) => {
          const parsed = parseRepo(repo.input.value);
          if (!parsed) {
            invalid(
              problem,
              repo.input,
              "Check the repository",
              "Write it as owner/name, e.g. matrix-org/matrix-hookshot.",
              "REPO",
            );
            return null;
          }
          repo.input.removeAttribute("aria-invalid");
          return parsed;
        },
      };
      return;
    }
    const instance =
      this.instanceNames.length > 0
        ? field(
            "select",
            "Instance",
            {},
            { children: this.instanceNames.map((n) => h("option", { value: n }, n)) },
          )
        : field(
            "input",
            "Instance",
            { type: "text", autocomplete: "off", spellcheck: "false" },
            {
              hint: "The GitLab instance's name in the bridge's configuration (ask the bridge's admin).",
            },
          );
    const path = field(
      "input",
      "Project path",
      { type: "text", autocomplete: "off", spellcheck: "false", placeholder: "group/project" },
      { hint: "A project, or a group to get all of its projects; its URL works too." },
    );
    this.manual.replaceChildren(instance.field, path.field, back() ?? "");
    this.manualFields = {
      read: (problem) => {
        const name = instance.input.value.trim();
        if (!name) {
          invalid(
            problem,
            instance.input,
            "Check the instance",
            "Name the GitLab instance.",
            "INSTANCE",
          );
          return null;
        }
        const value = parsePath(path.input.value);
        if (!value) {
          invalid(
            problem,
            path.input,
            "Check the project path",
            "Write it as group/project.",
            "PATH",
          );
          return null;
        }
        instance.input.removeAttribute("aria-invalid");
        path.input.removeAttribute("aria-invalid");
        return { instance: name, path: value };
      },
    };
  }

  /** The repository part of a new connection's state, from the picker or typed. */
  private chosen(problem: HTMLElement): Record<string, unknown> | null {
    if (this.picking && this.pick) {
      const target = this.targets[Number(this.pick.value)];
      if (!this.pick.value || !target) {
        invalid(
          problem,
          this.pick,
          `Choose a ${this.forge.noun}`,
          `Pick one of the list, or type one instead.`,
          "TARGET",
        );
        return null;
      }
      this.pick.removeAttribute("aria-invalid");
      if (this.forge.service === "gitlab") return { instance: target.instance, path: target.name };
      return parseRepo(target.name);
    }
    return this.manualFields?.read(problem) ?? null;
  }

  private buildCreateForm(): HTMLFormElement {
    const forge = this.forge;
    const titleId = uid("repo-create");
    this.buildManual();
    const events = eventsField(forge.groups, forge.defaults);
    const prefix = prefixField(forge, "");
    const error = h("div", { class: "form-error" });
    const submit = h("button", { type: "submit", class: "primary" }, `Add ${forge.noun}`);
    const form = h(
      "form",
      { class: "card create", "aria-labelledby": titleId, novalidate: true },
      h("h3", { id: titleId }, `Connect a ${forge.noun}`),
      this.targetNote,
      this.picker,
      this.manual,
      events.el,
      prefix.field,
      error,
      h("div", { class: "actions" }, submit),
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      error.replaceChildren();
      const where = this.chosen(error);
      if (!where) return;
      const commandPrefix = readPrefix(prefix.input, error);
      if (commandPrefix === false) return;
      const body: Record<string, unknown> = { ...where, enableHooks: events.values() };
      if (commandPrefix) body.commandPrefix = commandPrefix;
      const restore = busyButton(submit, "Adding…");
      this.api
        .create<RepoItem>(this.roomId, forge.eventType, body)
        .then((item) => {
          if (this.pick) this.pick.value = "";
          this.manual.querySelectorAll<HTMLInputElement>("input").forEach((i) => (i.value = ""));
          this.list.remember(item.id, item);
          const name = forge.name(item.config);
          this.afterCreate.replaceChildren(
            item.warning
              ? h(
                  "div",
                  { class: "alert warning", role: "alert" },
                  h(
                    "p",
                    { class: "alert-title" },
                    item.warning.header ?? `${name} was added, but…`,
                  ),
                  h("p", {}, item.warning.message ?? ""),
                )
              : "",
          );
          announce(`${name} connected to this room`);
          this.list.card(item.id)?.querySelector<HTMLElement>("[data-focus=edit]")?.focus();
        })
        .catch((err: unknown) => showProblem(error, err))
        .finally(restore);
    });
    return form;
  }

  // --- the list ---------------------------------------------------------------------------

  private buildCard(item: RepoItem): HTMLElement {
    const forge = this.forge;
    const c = item.config;
    const name = forge.name(c);
    const headingId = uid("repo");
    const hooks = Array.isArray(c.enableHooks) ? c.enableHooks : forge.defaults;
    const shown = hooks.slice(0, 10);
    const badges = [
      ...(c.instance ? [h("span", { class: "badge" }, c.instance)] : []),
      ...(forge.threads ? threadBadges(c) : []),
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
        h("code", {}, c.commandPrefix || forge.defaultPrefix),
      ),
    );
    const problem = h("div", {});
    if (item.canEdit !== false && this.canEdit) {
      const controls = new CardControls({
        name,
        question: `Disconnect ${name} from this room? Its events stop coming here at once.`,
        confirmText: `Remove ${forge.noun}`,
        problem,
        remove: async () => {
          await this.api.remove(this.roomId, item.id);
          this.list.remember(item.id, null);
          announce(`${name} removed from this room`);
          this.listTitle.focus();
        },
        editor: (ctl) => this.buildEditor(item, hooks, problem, ctl),
      });
      li.append(...controls.nodes);
    }
    li.append(problem);
    return li;
  }

  private buildEditor(
    item: RepoItem,
    hooks: readonly string[],
    problem: HTMLElement,
    controls: CardControls,
  ): HTMLElement {
    const name = this.forge.name(item.config);
    const events = eventsField(this.forge.groups, hooks);
    const prefix = prefixField(this.forge, item.config.commandPrefix ?? "");
    const threads = this.forge.threads ? threadsField(item.config) : null;
    const save = h("button", { type: "submit", class: "primary" }, "Save");
    const cancel = h("button", { type: "button", onclick: () => controls.closeEditor() }, "Cancel");
    const form = h(
      "form",
      { class: "edit", "aria-label": `Edit ${name}`, novalidate: true },
      events.el,
      threads?.el,
      prefix.field,
      h("div", { class: "actions" }, save, cancel),
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      problem.replaceChildren();
      const commandPrefix = readPrefix(prefix.input, problem);
      if (commandPrefix === false) return;
      const restore = busyButton(save, "Saving…");
      this.api
        .update<RepoItem>(this.roomId, item.id, {
          enableHooks: events.values(),
          commandPrefix,
          ...threads?.values(),
        })
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
