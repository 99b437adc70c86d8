// What the widget learns from its URL.
//
// hookshot writes the widget as `<publicUrl>#/?kind=roomConfig&roomId=$matrix_room_id
// &widgetId=$matrix_widget_id[&serviceScope=generic]` (src/Widgets/SetupWidget.ts); Element
// also adds `?widgetId=...&parentUrl=...` to the query string. A `theme` (light/dark, or an
// Element theme name such as `$org.matrix.msc2873.client_theme` expands to) may be in either.

export type Theme = "light" | "dark";

export interface WidgetParams {
  widgetId: string | null;
  roomId: string | null;
  /** hookshot's widget kind: "roomConfig" (the default here), "admin" or "invite". */
  kind: string;
  /** Show one service only (hookshot's `serviceScope`), e.g. "generic". */
  serviceScope: string | null;
  /** Where widget API messages go: the client's origin, or "*" when unknown (as hookshot). */
  parentOrigin: string;
  theme: Theme | null;
}

/** The `?a=b` part of a hookshot fragment (`#/?a=b`, `#?a=b` or `#a=b`). */
export function fragmentParams(hash: string): URLSearchParams {
  const body = hash.startsWith("#") ? hash.slice(1) : hash;
  const q = body.indexOf("?");
  return new URLSearchParams(q >= 0 ? body.slice(q + 1) : body.startsWith("/") ? "" : body);
}

/** "light"/"dark" from a theme name ("dark", "light-high-contrast", "custom-Dark Blue"). */
export function themeFromName(name: string | null | undefined): Theme | null {
  const value = (name ?? "").toLowerCase();
  if (!value || value.startsWith("$")) return null; // an unexpanded template variable
  if (value.includes("dark") || value.includes("black")) return "dark";
  if (value.includes("light") || value.includes("white")) return "light";
  return null;
}

function originOf(url: string | null): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.origin : null;
  } catch {
    return null;
  }
}

/** A value that is present and not an unexpanded `$template` variable. */
function given(value: string | null): string | null {
  return value && !value.startsWith("$") ? value : null;
}

export function readParams(location: Pick<Location, "hash" | "search">): WidgetParams {
  const fragment = fragmentParams(location.hash);
  const query = new URLSearchParams(location.search);
  const pick = (name: string): string | null => given(fragment.get(name)) ?? given(query.get(name));
  return {
    widgetId: pick("widgetId"),
    roomId: pick("roomId"),
    kind: pick("kind") ?? "roomConfig",
    serviceScope: pick("serviceScope"),
    parentOrigin: originOf(pick("parentUrl")) ?? "*",
    theme: themeFromName(pick("theme")),
  };
}
