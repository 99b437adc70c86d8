// What to tell a person when something fails: a title, the bridge's own words, and what to do.
import { BridgeError } from "./bridgeApi";
import { ClientLinkError } from "./matrixClient";

export interface Problem {
  title: string;
  detail: string;
  hint?: string;
  /** The hookshot errcode, for tests and bug reports. */
  code?: string;
}

export function describe(err: unknown): Problem {
  if (err instanceof ClientLinkError) {
    return { title: err.title, detail: err.message, code: err.code };
  }
  if (!(err instanceof BridgeError)) {
    const detail = err instanceof Error ? err.message : String(err);
    return { title: "Something went wrong", detail, code: "UNKNOWN" };
  }
  const base = { detail: err.message, code: err.errcode };
  switch (err.errcode) {
    case "HS_FORBIDDEN_BOT":
      return {
        ...base,
        title: "The bot lacks permission in this room",
        hint:
          "Give the bridge bot a higher power level (for example Moderator) in the room's " +
          "Roles & Permissions settings, then try again.",
      };
    case "HS_FORBIDDEN_USER":
      return {
        ...base,
        title: "You don't have permission to do that",
        hint: "Ask a room admin to raise your power level, or to make this change for you.",
      };
    case "HS_NOT_IN_ROOM":
      return {
        ...base,
        title: "The bridge cannot see this room",
        hint: "Invite the bridge bot to this room (and be joined yourself), then try again.",
      };
    case "M_AS_BAD_OPENID":
      return {
        ...base,
        title: "The bridge could not verify who you are",
        hint: "It could not check your identity with your homeserver. The bridge may be misconfigured.",
      };
    case "HS_DISABLED_FEATURE":
      return { ...base, title: "Not enabled on this bridge" };
    case "HS_NOTFOUND":
      return {
        ...base,
        title: "Not found",
        hint: "It may have been removed. Reload to see the current list.",
      };
    case "HS_BAD_VALUE":
    case "M_AS_BAD_VALUE":
      return { ...base, title: "That value was not accepted" };
    case "HS_CONFLICTING_CONNECTION":
      return { ...base, title: "That conflicts with an existing connection" };
    case "NETWORK":
      return { ...base, title: "Cannot reach the bridge" };
    default:
      return {
        ...base,
        title: err.status >= 500 ? "The bridge failed the request" : "The request was refused",
      };
  }
}
