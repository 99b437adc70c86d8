// What every service's page of connection cards shares: the section around the list (heading
// with Refresh, notices, the connect form, the list with its count and empty note), loading
// the list, a card's heading row, and the round trips of a connect form, an editor's Save and a
// card's Remove. Each page (webhooks, outbound, repos, forgejo) adds only what is its own.
import type { BridgeApi, ConnectionItem } from "./bridgeApi";
import { announce, h, uid } from "./dom";
import {
  busyButton,
  type CardControls,
  CardList,
  listNotices,
  sectionHead,
  showProblem,
} from "./ui";

type Child = Node | string | null | undefined | false;
type Body = Record<string, unknown>;

export interface SectionOptions<T> {
  /** The service the bridge lists them under ("generic", "github", ...). */
  service: string;
  /** The list's heading ("Webhooks in this room"); a count is added after it. */
  listTitle: string;
  /** Shown while the room has none. */
  empty: string;
  /** What the power notice calls them ("webhooks", "GitHub repositories"). */
  noun: string;
  build: (item: T) => HTMLElement;
  /** Warn when a connection says the bot cannot send here (outbound hooks send nothing). */
  botNotice?: boolean;
  /** Before the first listing (outbound hooks: a bridge that cannot list them still adds). */
  canEdit?: boolean;
}

export class ConnectionSection<T extends ConnectionItem<object, object>> {
  readonly list: CardList<T>;
  readonly listTitle: HTMLHeadingElement;
  /** Above the list: why the listing failed (or a page's own note). */
  readonly problem: HTMLDivElement;
  canEdit: boolean;
  private readonly emptyEl: HTMLParagraphElement;
  private readonly noticeEl: HTMLDivElement;
  private form: HTMLElement | null = null;
  private root: HTMLElement | null = null;

  constructor(
    private readonly api: BridgeApi,
    private readonly roomId: string,
    private readonly opts: SectionOptions<T>,
  ) {
    const listTitleId = uid(`${opts.service}-list`);
    this.canEdit = opts.canEdit ?? false;
    this.listTitle = h("h3", { id: listTitleId, tabindex: -1 }, opts.listTitle);
    this.list = new CardList<T>(listTitleId, opts.build, () => this.changed());
    this.emptyEl = h("p", { class: "empty", hidden: true }, opts.empty);
    this.noticeEl = h("div", { class: "notices" });
    this.problem = h("div", {});
  }

  /**
   * The page's section: heading (Refresh loads again and says `refreshed`), the lede and
   * `intro`, the notices, `above` (e.g. a token shown once), the connect form and the list.
   */
  frame(opts: {
    title: string;
    lede: string;
    intro?: Child;
    above?: Child;
    form: HTMLElement;
    refresh: () => Promise<void>;
    refreshed: string;
  }): HTMLElement {
    const titleId = uid(`${this.opts.service}-title`);
    this.form = opts.form;
    this.root = h(
      "section",
      { class: "service", "aria-labelledby": titleId, "data-service": this.opts.service },
      sectionHead(titleId, opts.title, () => {
        // A failure is already shown in the section.
        opts.refresh().then(
          () => announce(opts.refreshed),
          () => undefined,
        );
      }),
      h("p", { class: "lede" }, opts.lede),
      opts.intro,
      this.noticeEl,
      this.problem,
      opts.above,
      opts.form,
      this.listTitle,
      this.emptyEl,
      this.list.el,
    );
    return this.root;
  }

  /**
   * Fetch the room's connections and show them. `listed` sees the listing first; a failure is
   * shown above the list and thrown, unless `recover` takes it (true).
   */
  async load(
    hooks: { listed?: () => void; recover?: (err: unknown) => boolean } = {},
  ): Promise<void> {
    this.root?.setAttribute("aria-busy", "true");
    this.problem.replaceChildren();
    try {
      const listing = await this.api.list<T>(this.roomId, this.opts.service);
      hooks.listed?.();
      this.canEdit = listing.canEdit;
      this.list.set(listing.connections);
    } catch (err) {
      if (hooks.recover?.(err)) return;
      showProblem(this.problem, err);
      throw err;
    } finally {
      this.root?.removeAttribute("aria-busy");
    }
  }

  /** May the user change `item`? (Its own flag, and the room's.) */
  editable(item: T): boolean {
    return item.canEdit !== false && this.canEdit;
  }

  /**
   * A connect form: `fields` in a card titled `title`, its error box and `submit` button.
   * `body` reads the new connection's state (null: refused, the reason shown); `done` gets
   * what the bridge made.
   */
  createForm(opts: {
    title: string;
    submit: string;
    fields: Child[];
    eventType: string;
    body: (error: HTMLElement) => Body | null;
    done: (item: T, form: HTMLFormElement) => void;
  }): HTMLFormElement {
    const titleId = uid("create");
    const error = h("div", { class: "form-error" });
    const submit = h("button", { type: "submit", class: "primary" }, opts.submit);
    const form = h(
      "form",
      { class: "card create", "aria-labelledby": titleId, novalidate: true },
      h("h3", { id: titleId }, opts.title),
      ...opts.fields,
      error,
      h("div", { class: "actions" }, submit),
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      error.replaceChildren();
      const body = opts.body(error);
      if (body === null) return;
      const restore = busyButton(submit, "Adding…");
      this.api
        .create<T>(this.roomId, opts.eventType, body)
        .then((item) => opts.done(item, form))
        .catch((err: unknown) => showProblem(error, err))
        .finally(restore);
    });
    return form;
  }

  /**
   * A card's editor: `fields`, then Save and Cancel. Save sends `body` (null: refused, the
   * reason shown in `problem`) as an update; the card then shows what the bridge saved.
   */
  editor(opts: {
    item: T;
    name: string;
    controls: CardControls;
    problem: HTMLElement;
    fields: Child[];
    body: () => Body | null;
    saved: string;
  }): HTMLFormElement {
    const { item, problem, controls } = opts;
    const save = h("button", { type: "submit", class: "primary" }, "Save");
    const cancel = h("button", { type: "button", onclick: () => controls.closeEditor() }, "Cancel");
    const form = h(
      "form",
      { class: "edit", "aria-label": `Edit ${opts.name}`, novalidate: true },
      ...opts.fields,
      h("div", { class: "actions" }, save, cancel),
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      problem.replaceChildren();
      const body = opts.body();
      if (body === null) return;
      const restore = busyButton(save, "Saving…");
      this.api
        .update<T>(this.roomId, item.id, body)
        .then((updated) => {
          // Saved as it was: the card is not rebuilt, so this editor is closed here.
          restore();
          controls.closeEditor(false);
          this.list.remember(updated.id, {
            ...updated,
            canEdit: item.canEdit,
            canSendMessages: item.canSendMessages,
          });
          announce(opts.saved);
          this.list.card(updated.id)?.querySelector<HTMLElement>("[data-focus=edit]")?.focus();
        })
        .catch((err: unknown) => {
          showProblem(problem, err);
          restore();
        });
    });
    return form;
  }

  /** The Remove confirmation's action: gone from the room and the list, then said. */
  removal(item: T, said: string, also?: () => void): () => Promise<void> {
    return async () => {
      await this.api.remove(this.roomId, item.id);
      this.list.remember(item.id, null);
      also?.();
      announce(said);
      this.listTitle.focus();
    };
  }

  private changed(): void {
    const items = this.list.items;
    if (this.form) this.form.hidden = !this.canEdit;
    const muted = this.opts.botNotice !== false && items.some((i) => i.canSendMessages === false);
    this.noticeEl.replaceChildren(...listNotices(this.canEdit, this.opts.noun, muted));
    this.listTitle.replaceChildren(this.opts.listTitle);
    if (items.length) this.listTitle.append(h("span", { class: "count" }, ` (${items.length})`));
    this.emptyEl.hidden = items.length > 0;
  }
}

/** A card: its heading row (the name, then `badges`), then `body`. */
export function card(
  attrs: Record<string, string>,
  name: string,
  badges: HTMLElement | null,
  ...body: Child[]
): HTMLLIElement {
  const headingId = uid("card");
  return h(
    "li",
    { class: "card hook", "aria-labelledby": headingId, ...attrs },
    h("div", { class: "hook-head" }, h("h4", { id: headingId, class: "hook-name" }, name), badges),
    ...body,
  );
}
