// The GitLab page's own parts: its events, wording, and a project (or group) typed as an
// instance name and a path or the project's URL.
import { GITLAB_REPO_EVENT } from "./bridgeApi";
import { h } from "./dom";
import { type Forge, HOOKSHOT_DOCS, type ManualFields } from "./forge";
import { GITLAB_DEFAULT_HOOKS, GITLAB_HOOK_GROUPS } from "./hooks";
import { field, invalid } from "./ui";

/** A GitLab path from "group/project" or the project's URL. */
export function parsePath(text: string): string {
  let value = text.trim();
  if (/^[a-z]+:\/\//i.test(value)) {
    try {
      value = new URL(value).pathname.split("/-/")[0];
    } catch {
      // not a URL after all: taken as typed
    }
  }
  return value.replace(/^\/+|\/+$/g, "").replace(/\.git$/, "");
}

function manual(instances: readonly string[]): ManualFields {
  const instance =
    instances.length > 0
      ? field(
          "select",
          "Instance",
          {},
          { children: instances.map((n) => h("option", { value: n }, n)) },
        )
      : field(
          "input",
          "Instance",
          { type: "text", autocomplete: "off", spellcheck: "false" },
          {
            hint: "The GitLab instance's name in the bridge's configuration (ask the bridge's admin).",
          },
        );
  const path = field(
    "input",
    "Project path",
    { type: "text", autocomplete: "off", spellcheck: "false", placeholder: "group/project" },
    { hint: "A project, or a group to get all of its projects; its URL works too." },
  );
  return {
    nodes: [instance.field, path.field],
    read: (problem) => {
      const name = instance.input.value.trim();
      if (!name) {
        invalid(
          problem,
          instance.input,
          "Check the instance",
          "Name the GitLab instance.",
          "INSTANCE",
        );
        return null;
      }
      const value = parsePath(path.input.value);
      if (!value) {
        invalid(
          problem,
          path.input,
          "Check the project path",
          "Write it as group/project.",
          "PATH",
        );
        return null;
      }
      instance.input.removeAttribute("aria-invalid");
      path.input.removeAttribute("aria-invalid");
      return { instance: name, path: value };
    },
  };
}

export const GITLAB: Forge = {
  service: "gitlab",
  title: "GitLab projects",
  noun: "project",
  nouns: "projects",
  eventType: GITLAB_REPO_EVENT,
  groups: GITLAB_HOOK_GROUPS,
  defaults: GITLAB_DEFAULT_HOOKS,
  defaultPrefix: "!gl",
  docs: `${HOOKSHOT_DOCS}/gitlab_project.html`,
  lede: "A connected project (or group) posts its merge requests, pushes, releases, pipelines and issues here.",
  login: "gitlab personaltoken <instance> …",
  name: (c) => c.path ?? "",
  threadWording: {
    subjects: "merge request and issue",
    notices: "comments, reviews, approvals, its pipelines, merge",
  },
  emptyMeansLogin: true,
  manual,
  fromTarget: (t) => ({ instance: t.instance, path: t.name }),
};
