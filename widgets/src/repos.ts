// GitHub repositories and GitLab projects connected to one room: list, add (picked from the
// user's own, via GET /v1/targets/{eventType}, or typed by hand), edit events, threads and
// command prefix, remove. What differs between the two is in github.ts and gitlab.ts.
import { type BridgeApi, BridgeError } from "./bridgeApi";
import { announce, h } from "./dom";
import type { Forge, ForgeConfig, ManualFields, RepoItem, Target } from "./forge";
import { describe } from "./messages";
import { eventsField, prefixField, readPrefix, repoCard } from "./repoFields";
import { threadBadges, threadsCreateBody, threadsField } from "./repoThreads";
import { ConnectionSection } from "./section";
import { CardControls, field, invalid } from "./ui";

export type { ForgeConfig } from "./forge";
export { GITHUB, parseRepo } from "./github";
export { GITLAB } from "./gitlab";

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

export class ReposView {
  readonly root: HTMLElement;
  private readonly section: ConnectionSection<RepoItem>;
  private readonly afterCreate: HTMLDivElement;
  private targetsLoaded = false;
  // The create form's repository chooser (filled in by loadTargets).
  private readonly picker: HTMLDivElement;
  private readonly manual: HTMLDivElement;
  private readonly targetNote: HTMLDivElement;
  private targets: Target[] = [];
  private pick: HTMLSelectElement | null = null;
  private picking = false;
  private readonly instanceNames: string[];
  private manualFields: ManualFields | null = null;

  constructor(
    private readonly api: BridgeApi,
    roomId: string,
    private readonly forge: Forge,
    config: ForgeConfig,
  ) {
    const inst = config.instances;
    this.instanceNames = Array.isArray(inst) ? inst : inst ? Object.keys(inst) : [];
    this.section = new ConnectionSection<RepoItem>(api, roomId, {
      service: forge.service,
      listTitle: `Connected ${forge.nouns}`,
      empty: `No ${forge.nouns} are connected to this room yet.`,
      noun: `${forge.title.split(" ")[0]} ${forge.nouns}`,
      build: (item) => this.buildCard(item),
    });
    this.afterCreate = h("div", {});
    this.picker = h("div", {});
    this.manual = h("div", {});
    this.targetNote = h("div", { class: "target-note" });
    this.root = this.section.frame({
      title: forge.title,
      lede: forge.lede,
      intro: config.newInstallationUrl
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
      above: this.afterCreate,
      form: this.buildCreateForm(),
      refresh: () => {
        this.targetsLoaded = false; // a token given to the bot meanwhile counts
        return this.load();
      },
      refreshed: `${forge.title} refreshed`,
    });
  }

  async load(): Promise<void> {
    await this.section.load();
    if (this.section.canEdit && !this.targetsLoaded) {
      this.targetsLoaded = true;
      void this.loadTargets();
    }
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
      if (forge.emptyMeansLogin) this.showLogin();
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
    this.manualFields = this.forge.manual(this.instanceNames);
    this.manual.replaceChildren(
      ...this.manualFields.nodes,
      this.pick
        ? h(
            "button",
            { type: "button", class: "link", onclick: () => this.usePicker(true, true) },
            `Choose from your ${this.forge.nouns}`,
          )
        : "",
    );
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
      return this.forge.fromTarget(target);
    }
    return this.manualFields?.read(problem) ?? null;
  }

  private buildCreateForm(): HTMLFormElement {
    const forge = this.forge;
    this.buildManual();
    const events = eventsField(forge.groups, forge.defaults);
    const threads = threadsField({}, forge.threadWording);
    const prefix = prefixField(forge.defaultPrefix, "");
    return this.section.createForm({
      title: `Connect a ${forge.noun}`,
      submit: `Add ${forge.noun}`,
      fields: [this.targetNote, this.picker, this.manual, events.el, threads.el, prefix.field],
      eventType: forge.eventType,
      body: (error) => {
        const where = this.chosen(error);
        if (!where) return null;
        const commandPrefix = readPrefix(prefix.input, error);
        if (commandPrefix === false) return null;
        const body: Record<string, unknown> = {
          ...where,
          enableHooks: events.values(),
          ...threadsCreateBody(threads.values()),
        };
        if (commandPrefix) body.commandPrefix = commandPrefix;
        return body;
      },
      done: (item) => {
        if (this.pick) this.pick.value = "";
        this.manual.querySelectorAll<HTMLInputElement>("input").forEach((i) => (i.value = ""));
        this.section.list.remember(item.id, item);
        const name = forge.name(item.config);
        this.afterCreate.replaceChildren(
          item.warning
            ? h(
                "div",
                { class: "alert warning", role: "alert" },
                h("p", { class: "alert-title" }, item.warning.header ?? `${name} was added, but…`),
                h("p", {}, item.warning.message ?? ""),
              )
            : "",
        );
        announce(`${name} connected to this room`);
        this.section.list.card(item.id)?.querySelector<HTMLElement>("[data-focus=edit]")?.focus();
      },
    });
  }

  // --- the list ---------------------------------------------------------------------------

  private buildCard(item: RepoItem): HTMLElement {
    const forge = this.forge;
    const c = item.config;
    const name = forge.name(c);
    const hooks = Array.isArray(c.enableHooks) ? c.enableHooks : forge.defaults;
    const badges = [
      ...(c.instance ? [h("span", { class: "badge" }, c.instance)] : []),
      ...threadBadges(c),
    ];
    const li = repoCard(item.id, name, badges, hooks, c.commandPrefix || forge.defaultPrefix);
    const problem = h("div", {});
    if (this.section.editable(item)) {
      const controls = new CardControls({
        name,
        question: `Disconnect ${name} from this room? Its events stop coming here at once.`,
        confirmText: `Remove ${forge.noun}`,
        problem,
        remove: this.section.removal(item, `${name} removed from this room`),
        editor: (ctl) => this.buildEditor(item, name, hooks, problem, ctl),
      });
      li.append(...controls.nodes);
    }
    li.append(problem);
    return li;
  }

  private buildEditor(
    item: RepoItem,
    name: string,
    hooks: readonly string[],
    problem: HTMLElement,
    controls: CardControls,
  ): HTMLElement {
    const events = eventsField(this.forge.groups, hooks);
    const threads = threadsField(item.config, this.forge.threadWording);
    const prefix = prefixField(this.forge.defaultPrefix, item.config.commandPrefix ?? "");
    return this.section.editor({
      item,
      name,
      controls,
      problem,
      fields: [events.el, threads.el, prefix.field],
      body: () => {
        const commandPrefix = readPrefix(prefix.input, problem);
        if (commandPrefix === false) return null;
        return { enableHooks: events.values(), commandPrefix, ...threads.values() };
      },
      saved: `${name} saved`,
    });
  }
}
