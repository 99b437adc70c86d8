// A repository connection's quiet-room switches (GitHub, GitLab, Forgejo; docs/quiet-rooms.md):
// `threads` puts each pull (or merge) request's and issue's notices into one thread,
// `ciReactions` turns CI results into reactions on that thread's root. CI reactions need a root
// to react on, hence threads first.
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

/** What the threads switch says it does, per forge. */
export interface ThreadWording {
  subjects: string;
  notices: string;
}

export const PULL_REQUESTS: ThreadWording = {
  subjects: "pull request and issue",
  notices: "comments, reviews, pushes, merge",
};

/** A new connection's part: only the switches that are on (a new room never asked). */
export function threadsCreateBody(values: ThreadValues): Partial<Record<keyof ThreadValues, true>> {
  const body: Partial<Record<keyof ThreadValues, true>> = {};
  if (values.threads) body.threads = true;
  if (values.ciReactions) body.ciReactions = true;
  return body;
}

/**
 * The editor's (and connect form's) two checkboxes; CI reactions can only be ticked while
 * threads is. `wording` says what gets a thread and which of its notices go there (GitLab's
 * differ: merge requests, and its pushes stay in the timeline).
 */
export function threadsField(
  c: ThreadSettings,
  wording: ThreadWording = PULL_REQUESTS,
): {
  el: HTMLElement;
  values: () => ThreadValues;
} {
  const threads = checkField(
    `Thread each ${wording.subjects}`,
    { checked: c.threads === true, "data-setting": "threads" },
    `Its notices (${wording.notices}) go into one thread whose first message shows its state.`,
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
