// What differs between the GitHub and the GitLab page (github.ts, gitlab.ts); repos.ts is
// the page itself.
import type { ConnectionItem } from "./bridgeApi";
import type { HookGroup } from "./hooks";
import type { ThreadWording } from "./repoThreads";

export interface RepoConfig {
  org?: string;
  repo?: string;
  instance?: string;
  path?: string;
  enableHooks?: string[];
  commandPrefix?: string;
  [key: string]: unknown;
}
export type RepoItem = ConnectionItem<RepoConfig>;

/** One entry of GET /v1/targets/{eventType}. */
export interface Target {
  name: string;
  description?: string | null;
  instance?: string;
}

/** The fields a repository is typed in by hand, and the new connection's state from them. */
export interface ManualFields {
  nodes: HTMLElement[];
  /** Null after showing (in `problem`) why the typed value is refused. */
  read: (problem: HTMLElement) => Record<string, unknown> | null;
}

export interface ForgeConfig {
  newInstallationUrl?: string;
  /** GitLab instance names, if the bridge tells them. */
  instances?: string[] | Record<string, unknown>;
}

export interface Forge {
  service: "github" | "gitlab";
  title: string;
  noun: string;
  nouns: string;
  eventType: string;
  groups: readonly HookGroup[];
  defaults: readonly string[];
  defaultPrefix: string;
  docs: string;
  lede: string;
  login: string;
  name: (c: RepoConfig) => string;
  /** What gets a thread with `threads` on, and which notices go there (the switch's words). */
  threadWording: ThreadWording;
  /** No targets at all means no token of the user's (GitLab leaves such instances out). */
  emptyMeansLogin: boolean;
  /** The typed-by-hand fields; `instances` are the names the bridge told (GitLab's). */
  manual: (instances: readonly string[]) => ManualFields;
  /** A picked target as the new connection's state. */
  fromTarget: (target: Target) => Record<string, unknown> | null;
}

export const HOOKSHOT_DOCS =
  "https://matrix-org.github.io/matrix-hookshot/latest/usage/room_configuration";
