// Ours: a webhook card's "New URL" button and its confirmation. A leaked URL is otherwise
// forever; the bridge gives the hook a new one and the old one answers 404 at once.
import { h, uid } from "./dom";
import { showProblem } from "./ui";

export class RotateControl {
  readonly button: HTMLButtonElement;
  readonly confirm: HTMLElement;

  /** `rotate` asks the bridge and shows the new URL; its failure is shown in `problem`. */
  constructor(name: string, problem: HTMLElement, rotate: () => Promise<void>) {
    const textId = uid("rotate");
    this.button = h(
      "button",
      { type: "button", "data-action": "rotate" },
      "New URL",
      h("span", { class: "visually-hidden" }, ` for ${name}`),
    );
    const yes = h("button", { type: "button", class: "danger solid" }, "Make a new URL");
    const no = h("button", { type: "button" }, "Cancel");
    this.confirm = h(
      "div",
      { class: "confirm", role: "group", "aria-labelledby": textId, hidden: true },
      h(
        "p",
        { id: textId },
        `Give “${name}” a new URL? The current one stops working at once, so update the service that sends to it.`,
      ),
      h("div", { class: "actions" }, yes, no),
    );
    this.button.addEventListener("click", () => {
      this.confirm.hidden = false;
      yes.focus();
    });
    no.addEventListener("click", () => {
      this.confirm.hidden = true;
      this.button.focus();
    });
    yes.addEventListener("click", () => {
      problem.replaceChildren();
      yes.disabled = no.disabled = true;
      yes.textContent = "Making a new URL…";
      rotate().catch((err: unknown) => {
        showProblem(problem, err);
        yes.disabled = no.disabled = false;
        yes.textContent = "Make a new URL";
      });
    });
  }
}
