// hookshot's room configuration widget: who am I (OpenID via the Matrix client), which
// services the bridge runs, and the room's inbound webhooks.
import "./style.css";
import {
  apiBaseFromLocation,
  BridgeApi,
  BridgeError,
  type GenericServiceConfig,
} from "./bridgeApi";
import { h } from "./dom";
import { ClientLink, ClientLinkError } from "./matrixClient";
import { describe, type Problem } from "./messages";
import { readParams } from "./params";
import { applyTheme } from "./theme";
import { problemBox, WebhooksView } from "./webhooks";

const SERVICE_NAMES: Record<string, string> = {
  generic: "Inbound webhooks",
  genericOutbound: "Outbound webhooks",
  github: "GitHub",
  gitlab: "GitLab",
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
  const enabled = Object.keys(SERVICE_NAMES).filter((s) => sections[s]);
  if (!scope) {
    const list = h("ul", { class: "service-list" });
    for (const service of enabled) {
      const here = service === "generic";
      list.append(
        h(
          "li",
          { "data-service": service },
          h("span", { class: "service-name" }, SERVICE_NAMES[service] ?? service),
          h(
            "span",
            { class: here ? "badge ok" : "badge" },
            here ? "Set up below" : "Use the bot's commands",
          ),
        ),
      );
    }
    page.push(
      h(
        "section",
        { class: "services", "aria-labelledby": "services-title" },
        h("h2", { id: "services-title" }, "Services on this bridge"),
        enabled.length ? list : h("p", { class: "empty" }, "This bridge has no services enabled."),
        enabled.some((s) => s !== "generic")
          ? h(
              "p",
              { class: "hint" },
              "Services other than inbound webhooks are set up with the bot's commands: type ",
              h("code", {}, "!hookshot help"),
              " in this room.",
            )
          : null,
      ),
    );
  }

  const wantsHooks = !scope || scope === "generic";
  if (scope && scope !== "generic") {
    page.push(
      problemBox({
        title: `${SERVICE_NAMES[scope] ?? scope} cannot be set up in this widget yet`,
        detail: "Use the bot's commands instead: type !hookshot help in this room.",
        code: "SCOPE",
      }),
    );
  }
  let hooks: WebhooksView | null = null;
  if (wantsHooks && sections.generic) {
    const config = await bridge.serviceConfig<GenericServiceConfig>("generic");
    hooks = new WebhooksView(bridge, roomId, config);
    page.push(hooks.root);
  } else if (wantsHooks) {
    page.push(
      h(
        "p",
        { class: "alert info", "data-errcode": "HS_DISABLED_FEATURE" },
        "Inbound webhooks are not enabled on this bridge.",
      ),
    );
  }
  if (hooks) {
    try {
      await hooks.load();
    } catch (err) {
      // A room the bot is not in, or a user without access: nothing else here can work.
      if (err instanceof BridgeError && err.errcode === "HS_NOT_IN_ROOM") throw err;
    }
  }
  app.replaceChildren(...page);
  app.removeAttribute("aria-busy");
  app.dataset.state = "ready";
}

void boot();
