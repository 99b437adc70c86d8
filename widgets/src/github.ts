// The GitHub page's own parts: its events, wording, and a repository typed as owner/name or
// its URL.
import { GITHUB_REPO_EVENT } from "./bridgeApi";
import { type Forge, HOOKSHOT_DOCS, type ManualFields } from "./forge";
import { GITHUB_DEFAULT_HOOKS, GITHUB_HOOK_GROUPS } from "./hooks";
import { PULL_REQUESTS } from "./repoThreads";
import { field, invalid } from "./ui";

/** "org/repo" from "org/repo", "https://github.com/org/repo(.git)" or similar. */
export function parseRepo(text: string): { org: string; repo: string } | null {
  const m = /^(?:[a-z]+:\/\/[^/]+\/)?([^/\s]+)\/([^/\s?#]+?)(?:\.git)?\/?$/i.exec(text.trim());
  return m ? { org: m[1], repo: m[2] } : null;
}

function manual(): ManualFields {
  const repo = field(
    "input",
    "Repository",
    { type: "text", autocomplete: "off", spellcheck: "false", placeholder: "org/repo" },
    { hint: "Owner and name, e.g. matrix-org/matrix-hookshot, or the repository's URL." },
  );
  return {
    nodes: [repo.field],
    read: (problem) => {
      const parsed = parseRepo(repo.input.value);
      if (!parsed) {
        invalid(
          problem,
          repo.input,
          "Check the repository",
          "Write it as owner/name, e.g. matrix-org/matrix-hookshot.",
          "REPO",
        );
        return null;
      }
      repo.input.removeAttribute("aria-invalid");
      return parsed;
    },
  };
}

export const GITHUB: Forge = {
  service: "github",
  title: "GitHub repositories",
  noun: "repository",
  nouns: "repositories",
  eventType: GITHUB_REPO_EVENT,
  groups: GITHUB_HOOK_GROUPS,
  defaults: GITHUB_DEFAULT_HOOKS,
  defaultPrefix: "!gh",
  docs: `${HOOKSHOT_DOCS}/github_repo.html`,
  lede: "A connected repository posts its issues, pull requests, releases and workflow runs here, and takes commands such as !gh create.",
  login: "github setpersonaltoken …",
  name: (c) => `${c.org ?? ""}/${c.repo ?? ""}`,
  threadWording: PULL_REQUESTS,
  emptyMeansLogin: false,
  manual,
  fromTarget: (t) => parseRepo(t.name),
};
