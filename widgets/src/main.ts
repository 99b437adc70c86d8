// hookshot's room configuration widget: who am I (OpenID via the Matrix client), which
// services the bridge runs, and a tab per service it can set up: inbound and outbound
// webhooks, GitHub repositories, GitLab projects, Forgejo / Gitea repositories.
import "./style.css";
import {
  apiBaseFromLocation,
  BridgeApi,
  BridgeError,
  type GenericServiceConfig,
} from "./bridgeApi";
import { h, uid } from "./dom";
import { ClientLink, ClientLinkError } from "./matrixClient";
import { describe, type Problem } from "./messages";
import { readParams } from "./params";
import { applyTheme } from "./theme";
import type { ForgejoConfig } from "./forgejo";
import type { ForgeConfig } from "./repos";
import { problemBox } from "./ui";
import { WebhooksView } from "./webhooks";

const SERVICE_NAMES: Record<string, string> = {
  generic: "Inbound webhooks",
  genericOutbound: "Outbound webhooks",
  github: "GitHub",
  gitlab: "GitLab",
  forgejo: "Forgejo / Gitea",
  jira: "Jira",
  figma: "Figma",
  feeds: "RSS/Atom feeds",
};

const params = readParams(window.location);
applyTheme(params.theme);
const app = document.getElementById("app") as HTMLElement;

// The client may talk to us as soon as we load: start listening before anything else.
let link: ClientLink | null = null;
let linkProblem: unknown = null;
if (params.widgetId) {
  try {
    link = new ClientLink(params.widgetId, params.parentOrigin, applyTheme);
  } catch (err) {
    linkProblem = err;
  }
}

function busy(text: string): void {
  app.setAttribute("aria-busy", "true");
  app.replaceChildren(
    h(
      "p",
      { class: "status", role: "status" },
      h("span", { class: "spinner", "aria-hidden": "true" }),
      text,
    ),
  );
}

function fail(problem: Problem, retry: boolean): void {
  app.removeAttribute("aria-busy");
  const again = retry
    ? h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "primary", onclick: () => void boot() }, "Try again"),
      )
    : undefined;
  app.replaceChildren(h("h1", {}, "Room integrations"), problemBox(problem, again));
  app.dataset.state = "error";
}

let api: BridgeApi | null = null;

async function boot(): Promise<void> {
  app.dataset.state = "loading";
  if (!params.widgetId || !params.roomId) {
    const missing = !params.widgetId ? "widgetId" : "roomId";
    fail(
      {
        title: "This widget must be opened from a Matrix room",
        detail: `Its address has no ${missing}, so it does not know where it is.`,
        hint: "Ask the bridge bot to add the widget to your room, then open it from there.",
        code: "PARAMS",
      },
      false,
    );
    return;
  }
  if (!link) {
    fail(describe(linkProblem ?? new ClientLinkError("No Matrix client.")), false);
    return;
  }
  if (params.kind !== "roomConfig") {
    fail(
      {
        title: "Not available here",
        detail: `This widget configures rooms; “${params.kind}” widgets are not supported.`,
        code: "KIND",
      },
      false,
    );
    return;
  }
  const client = link;
  const roomId = params.roomId;
  busy("Connecting to your Matrix client…");
  api ??= new BridgeApi(apiBaseFromLocation(window.location), () => client.openIdToken());
  try {
    const userId = await api.connect();
    busy("Loading this room's integrations…");
    const sections = await api.sections();
    await render(api, roomId, userId, sections);
  } catch (err) {
    console.error("hookshot widget:", err);
    fail(describe(err), !(err instanceof BridgeError && err.errcode === "M_AS_BAD_OPENID"));
  }
}

interface View {
  root: HTMLElement;
  load(): Promise<void>;
}

async function forge(bridge: BridgeApi, roomId: string, service: "github" | "gitlab") {
  const [repos, config] = await Promise.all([
    import("./repos"),
    bridge.serviceConfig<ForgeConfig>(service),
  ]);
  return new repos.ReposView(
    bridge,
    roomId,
    service === "github" ? repos.GITHUB : repos.GITLAB,
    config,
  );
}

/** The services this widget sets up, in tab order. */
const PAGES: { service: string; make: (bridge: BridgeApi, roomId: string) => Promise<View> }[] = [
  {
    service: "generic",
    make: async (bridge, roomId) =>
      new WebhooksView(bridge, roomId, await bridge.serviceConfig<GenericServiceConfig>("generic")),
  },
  // The other pages are separate chunks, loaded when their tab is first opened.
  {
    service: "genericOutbound",
    make: async (bridge, roomId) => new (await import("./outbound")).OutboundView(bridge, roomId),
  },
  {
    service: "github",
    make: (bridge, roomId) => forge(bridge, roomId, "github"),
  },
  {
    service: "gitlab",
    make: (bridge, roomId) => forge(bridge, roomId, "gitlab"),
  },
  {
    service: "forgejo",
    make: async (bridge, roomId) => {
      const [page, config] = await Promise.all([
        import("./forgejo"),
        bridge.serviceConfig<ForgejoConfig>("forgejo"),
      ]);
      return new page.ForgejoView(bridge, roomId, config);
    },
  },
];

/** Make a page's view and load it; a room the bridge cannot use fails the whole widget. */
async function open(
  page: (typeof PAGES)[number],
  bridge: BridgeApi,
  roomId: string,
): Promise<HTMLElement> {
  let view: View;
  try {
    view = await page.make(bridge, roomId);
  } catch (err) {
    if (err instanceof BridgeError && err.errcode === "HS_NOT_IN_ROOM") throw err;
    return problemBox(describe(err));
  }
  try {
    await view.load();
  } catch (err) {
    // Shown in the view; a room the bot is not in, or a user without access: nothing works.
    if (err instanceof BridgeError && err.errcode === "HS_NOT_IN_ROOM") throw err;
  }
  return view.root;
}

/** A tab per page (WAI-ARIA tabs: arrow keys, Home and End move between them). */
function tabbed(pages: (typeof PAGES)[number][], show: (i: number) => Promise<HTMLElement>) {
  const panel = h("div", { role: "tabpanel", id: uid("panel"), class: "panel", tabindex: 0 });
  const tabs = pages.map((page, i) =>
    h(
      "button",
      {
        type: "button",
        role: "tab",
        id: uid("tab"),
        "aria-controls": panel.id,
        "data-service": page.service,
        onclick: () => void select(i, false),
      },
      SERVICE_NAMES[page.service] ?? page.service,
    ),
  );
  const list = h("div", { role: "tablist", class: "tabs", "aria-label": "Services" }, ...tabs);
  let current = -1;
  const select = async (i: number, focus: boolean): Promise<void> => {
    tabs.forEach((t, j) => {
      t.setAttribute("aria-selected", String(i === j));
      t.tabIndex = i === j ? 0 : -1;
    });
    if (focus) tabs[i].focus();
    if (i === current) return;
    current = i;
    panel.setAttribute("aria-labelledby", tabs[i].id);
    panel.setAttribute("aria-busy", "true");
    panel.replaceChildren(
      h(
        "p",
        { class: "status", role: "status" },
        h("span", { class: "spinner", "aria-hidden": "true" }),
        "Loading…",
      ),
    );
    try {
      const root = await show(i);
      if (current === i) panel.replaceChildren(root);
    } catch (err) {
      if (current === i) panel.replaceChildren(problemBox(describe(err)));
    } finally {
      if (current === i) panel.removeAttribute("aria-busy");
    }
  };
  list.addEventListener("keydown", (ev) => {
    const keys: Record<string, number> = {
      ArrowRight: current + 1,
      ArrowLeft: current - 1,
      Home: 0,
      End: tabs.length - 1,
    };
    if (!(ev.key in keys)) return;
    ev.preventDefault();
    void select((keys[ev.key] + tabs.length) % tabs.length, true);
  });
  return { nodes: [list, panel], select };
}

async function render(
  bridge: BridgeApi,
  roomId: string,
  userId: string,
  sections: Record<string, boolean>,
): Promise<void> {
  const page: Node[] = [
    h(
      "header",
      { class: "page-head" },
      h("h1", {}, "Room integrations"),
      h("p", { class: "whoami" }, "Signed in as ", h("span", { class: "mono" }, userId)),
    ),
  ];
  const scope = params.serviceScope;
  const pages = PAGES.filter((p) => sections[p.service] && (!scope || p.service === scope));
  if (scope && !pages.length) {
    const known = PAGES.some((p) => p.service === scope);
    page.push(
      problemBox({
        title: known
          ? `${SERVICE_NAMES[scope] ?? scope} is not enabled on this bridge`
          : `${SERVICE_NAMES[scope] ?? scope} cannot be set up in this widget yet`,
        detail: "Use the bot's commands instead: type !hookshot help in this room.",
        code: known ? "HS_DISABLED_FEATURE" : "SCOPE",
      }),
    );
  } else if (!pages.length) {
    page.push(
      h(
        "p",
        { class: "alert info", "data-errcode": "HS_DISABLED_FEATURE" },
        "This bridge has no services that can be set up here.",
      ),
    );
  }
  const others = Object.keys(SERVICE_NAMES).filter(
    (s) => sections[s] && !PAGES.some((p) => p.service === s),
  );
  if (!scope && others.length) {
    page.push(
      h(
        "p",
        { class: "hint others" },
        `${others.map((s) => SERVICE_NAMES[s]).join(", ")}: set up with the bot's commands; type `,
        h("code", {}, "!hookshot help"),
        " in this room.",
      ),
    );
  }
  if (pages.length === 1) {
    page.push(await open(pages[0], bridge, roomId));
  } else if (pages.length > 1) {
    const made = new Map<number, Promise<HTMLElement>>();
    const tabs = tabbed(pages, (i) => {
      let root = made.get(i);
      if (!root) {
        root = open(pages[i], bridge, roomId);
        made.set(i, root);
        // A failed page is tried again when its tab is chosen again.
        root.catch(() => made.delete(i));
      }
      return root;
    });
    // The first page loads before the widget shows: a room it cannot use fails it all.
    made.set(0, open(pages[0], bridge, roomId));
    await made.get(0);
    await tabs.select(0, false);
    page.push(...tabs.nodes);
  }
  app.replaceChildren(...page);
  app.removeAttribute("aria-busy");
  app.dataset.state = "ready";
}

void boot();
