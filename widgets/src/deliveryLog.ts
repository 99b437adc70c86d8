// Ours: a webhook's recent requests and what became of them (GET .../connections/{id}/log).
import type { BridgeApi, Delivery } from "./bridgeApi";
import { announce, h, uid } from "./dom";
import { busyButton, showProblem } from "./ui";

const COLUMNS = ["Time", "Method", "Status", "Size", "Result", "Notes"];

export function formatBytes(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} kB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}

function statusClass(status: number): string {
  if (status >= 200 && status < 300) return "badge ok";
  return status >= 400 ? "badge critical" : "badge";
}

function row(d: Delivery): HTMLTableRowElement {
  const at = new Date(d.at);
  const notes = d.notes ?? [];
  const cells: (Node | string)[] = [
    h(
      "time",
      { datetime: at.toISOString() },
      at.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" }),
    ),
    d.method,
    h("span", { class: statusClass(d.status) }, String(d.status)),
    formatBytes(d.size),
    d.result || "—",
    notes.length > 1
      ? h("ul", { class: "notes" }, ...notes.map((n) => h("li", {}, n)))
      : notes[0] || "—",
  ];
  // Explicit roles: the narrow layout restyles the table as blocks, which drops them.
  return h(
    "tr",
    { role: "row" },
    ...cells.map((c, i) => h("td", { role: "cell", "data-label": COLUMNS[i] }, c)),
  );
}

/** A "Delivery log" toggle button and the panel it opens (loaded when opened). */
export class DeliveryLogPanel {
  readonly button: HTMLButtonElement;
  readonly panel: HTMLElement;
  private readonly status: HTMLParagraphElement;
  private readonly body: HTMLDivElement;
  private readonly problem: HTMLDivElement;
  private readonly refreshButton: HTMLButtonElement;

  constructor(
    private readonly api: BridgeApi,
    private readonly roomId: string,
    private readonly id: string,
    private readonly name: string,
  ) {
    const panelId = uid("log");
    const titleId = uid("log-title");
    this.button = h(
      "button",
      { type: "button", "aria-expanded": "false", "aria-controls": panelId },
      "Delivery log",
      h("span", { class: "visually-hidden" }, ` of ${name}`),
    );
    this.status = h("p", { class: "hint" });
    this.body = h("div", {});
    this.problem = h("div", {});
    this.refreshButton = h("button", { type: "button" }, "Refresh log");
    this.panel = h(
      "section",
      { id: panelId, class: "log", "aria-labelledby": titleId, hidden: true },
      h(
        "h5",
        { id: titleId },
        "Delivery log",
        h("span", { class: "visually-hidden" }, ` of ${name}`),
      ),
      this.status,
      this.problem,
      this.body,
      h("div", { class: "actions" }, this.refreshButton),
    );
    this.button.addEventListener("click", () => {
      const open = this.panel.hidden;
      this.panel.hidden = !open;
      this.button.setAttribute("aria-expanded", String(open));
      if (open) void this.load(false);
    });
    this.refreshButton.addEventListener("click", () => void this.load(true));
  }

  async load(tell: boolean): Promise<void> {
    this.problem.replaceChildren();
    this.panel.setAttribute("aria-busy", "true");
    this.status.textContent = "Loading recent requests…";
    const restore = busyButton(this.refreshButton, "Loading…");
    try {
      const deliveries = await this.api.deliveries(this.roomId, this.id);
      this.show(deliveries);
      if (tell) announce(`Delivery log of ${this.name}: ${this.status.textContent}`);
    } catch (err) {
      this.status.textContent = "";
      showProblem(this.problem, err);
    } finally {
      restore();
      this.panel.removeAttribute("aria-busy");
    }
  }

  private show(deliveries: Delivery[]): void {
    const n = deliveries.length;
    if (!n) {
      this.status.textContent =
        "No requests yet. Requests since the bridge last started are shown here.";
      this.body.replaceChildren();
      return;
    }
    this.status.textContent = `${n} recent ${n === 1 ? "request" : "requests"}, newest first.`;
    this.body.replaceChildren(
      h(
        "table",
        { class: "log-table", role: "table" },
        h("caption", { class: "visually-hidden" }, `Recent requests to ${this.name}, newest first`),
        h(
          "thead",
          { role: "rowgroup" },
          h(
            "tr",
            { role: "row" },
            ...COLUMNS.map((c) => h("th", { scope: "col", role: "columnheader" }, c)),
          ),
        ),
        h("tbody", { role: "rowgroup" }, ...deliveries.map(row)),
      ),
    );
  }
}
