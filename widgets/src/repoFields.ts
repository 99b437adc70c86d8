// What a repository connection's card and forms show, for every forge (GitHub, GitLab,
// Forgejo): the events it posts, its command prefix, and the fields that edit them.
import { h, uid } from "./dom";
import type { HookGroup } from "./hooks";
import { card } from "./section";
import { checkField, field, invalid } from "./ui";

const PREFIX_MIN = 2;
const PREFIX_MAX = 24;
const SHOWN_EVENTS = 10;

/**
 * A repository's card: its name and `badges`, the events it posts (the first few) and what
 * its commands start with.
 */
export function repoCard(
  id: string,
  name: string,
  badges: HTMLElement[],
  hooks: readonly string[],
  prefix: string,
): HTMLLIElement {
  const shown = hooks.slice(0, SHOWN_EVENTS);
  return card(
    { "data-connection-id": id },
    name,
    badges.length ? h("span", { class: "badges" }, ...badges) : null,
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
    h("p", { class: "meta" }, "Commands start with ", h("code", {}, prefix)),
  );
}

/** Checkboxes for `enableHooks`, one collapsible group per family. */
export function eventsField(
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

export function prefixField(
  defaultPrefix: string,
  value: string,
): { field: HTMLElement; input: HTMLInputElement } {
  return field(
    "input",
    "Command prefix",
    {
      type: "text",
      minlength: PREFIX_MIN,
      maxlength: PREFIX_MAX,
      autocomplete: "off",
      spellcheck: "false",
      placeholder: defaultPrefix,
      value,
    },
    {
      optional: true,
      hint: `Commands about it start with this in the room (${PREFIX_MIN}–${PREFIX_MAX} characters). Empty: ${defaultPrefix}.`,
    },
  );
}

/** The prefix typed, or null (none); false when it is the wrong length. */
export function readPrefix(input: HTMLInputElement, problem: HTMLElement): string | null | false {
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
