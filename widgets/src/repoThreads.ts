// A GitHub repository connection's quiet-room switches (docs/quiet-rooms.md): `threads` puts
// each pull request's and issue's notices into one thread, `ciReactions` turns CI results into
// reactions on that thread's root. CI reactions need a root to react on, hence threads first.
import { h } from "./dom";
import { checkField } from "./ui";

export interface ThreadSettings {
  threads?: unknown;
  ciReactions?: unknown;
  [key: string]: unknown;
}

/** The update body's part: true when on; null (the key unset) when off, as for a room that
 * never asked, so a connection saved with them off looks like one that never had them. */
export interface ThreadValues {
  threads: true | null;
  ciReactions: true | null;
}

/** The card's badges for the switches that are on (none when off). */
export function threadBadges(c: ThreadSettings): HTMLElement[] {
  if (c.threads !== true) return [];
  const badges = [h("span", { class: "badge" }, "Threads")];
  if (c.ciReactions === true) badges.push(h("span", { class: "badge" }, "CI reactions"));
  return badges;
}

/** The editor's two checkboxes; CI reactions can only be ticked while threads is. */
export function threadsField(c: ThreadSettings): {
  el: HTMLElement;
  values: () => ThreadValues;
} {
  const threads = checkField(
    "Thread each pull request and issue",
    { checked: c.threads === true, "data-setting": "threads" },
    "Its notices (comments, reviews, pushes, merge) go into one thread whose first message shows its state.",
  );
  const reactions = checkField(
    "CI results as reactions on the thread",
    { checked: c.threads === true && c.ciReactions === true, "data-setting": "ciReactions" },
    "Running, passed or failed shows as a reaction on the thread's first message instead of a new message each time. Needs threads.",
  );
  const sync = (): void => {
    reactions.input.disabled = !threads.input.checked;
    if (!threads.input.checked) reactions.input.checked = false;
  };
  threads.input.addEventListener("change", sync);
  sync();
  const el = h(
    "fieldset",
    { class: "field threads" },
    h("legend", {}, "Threads"),
    threads.field,
    reactions.field,
  );
  return {
    el,
    values: () => ({
      threads: threads.input.checked ? true : null,
      ciReactions: threads.input.checked && reactions.input.checked ? true : null,
    }),
  };
}
