// Forgejo and Gitea repositories connected to one room: list, add (instance + owner/name or
// the repository's URL; the bridge checks it with the token the user gave the bot), switch
// threads and CI reactions, remove. The events and the command prefix are set by hand
// (docs/forgejo.md); an edit here keeps them.
import { type BridgeApi, type ConnectionItem, FORGEJO_REPO_EVENT } from "./bridgeApi";
import { announce, h } from "./dom";
import { repoCard } from "./repoFields";
import { threadBadges, threadsCreateBody, threadsField } from "./repoThreads";
import { ConnectionSection } from "./section";
import { CardControls, field, invalid } from "./ui";

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
  private readonly section: ConnectionSection<ForgejoItem>;
  private readonly instances: Record<string, string>;

  constructor(api: BridgeApi, roomId: string, config: ForgejoConfig) {
    this.instances =
      config.instances && typeof config.instances === "object" ? config.instances : {};
    this.section = new ConnectionSection<ForgejoItem>(api, roomId, {
      service: "forgejo",
      listTitle: "Connected repositories",
      empty: "No Forgejo or Gitea repositories are connected to this room yet.",
      noun: "Forgejo repositories",
      build: (item) => this.buildCard(item),
    });
    this.root = this.section.frame({
      title: "Forgejo / Gitea repositories",
      lede: "A connected repository posts its issues, pull requests, releases and action runs here, and takes commands such as !forgejo create.",
      form: this.buildCreateForm(),
      refresh: () => this.load(),
      refreshed: "Forgejo repositories refreshed",
    });
  }

  load(): Promise<void> {
    return this.section.load();
  }

  private buildCreateForm(): HTMLFormElement {
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
    return this.section.createForm({
      title: "Connect a repository",
      submit: "Add repository",
      fields: [
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
      ],
      eventType: FORGEJO_REPO_EVENT,
      body: (error) => {
        const where = parseForgejoRepo(repo.input.value, instance.input.value, this.instances);
        if (!where) {
          invalid(
            error,
            repo.input,
            "Check the repository",
            "Write it as owner/name, or paste its URL on one of the instances listed.",
            "REPO",
          );
          return null;
        }
        repo.input.removeAttribute("aria-invalid");
        return { ...where, ...threadsCreateBody(threads.values()) };
      },
      done: (item) => {
        repo.input.value = "";
        this.section.list.remember(item.id, item);
        announce(`${repoName(item.config)} connected to this room`);
        this.section.list.card(item.id)?.querySelector<HTMLElement>("[data-focus=edit]")?.focus();
      },
    });
  }

  private buildCard(item: ForgejoItem): HTMLElement {
    const c = item.config;
    const name = repoName(c);
    const hooks = Array.isArray(c.enableHooks) ? c.enableHooks : [];
    const badges = [
      ...(c.instance ? [h("span", { class: "badge" }, c.instance)] : []),
      ...threadBadges(c),
    ];
    const li = repoCard(item.id, name, badges, hooks, c.commandPrefix || DEFAULT_PREFIX);
    const problem = h("div", {});
    if (this.section.editable(item)) {
      const controls = new CardControls({
        name,
        question: `Disconnect ${name} from this room? Its events stop coming here at once.`,
        confirmText: "Remove repository",
        problem,
        remove: this.section.removal(item, `${name} removed from this room`),
        // The events and the prefix are set by hand: an edit here keeps them.
        editor: (ctl) => {
          const threads = threadsField(c);
          return this.section.editor({
            item,
            name,
            controls: ctl,
            problem,
            fields: [threads.el],
            body: () => ({ ...threads.values() }),
            saved: `${name} saved`,
          });
        },
      });
      li.append(...controls.nodes);
    }
    li.append(problem);
    return li;
  }
}
