// Light/dark: the client's theme when it tells us (URL `theme`, MSC2873 `theme_change`),
// otherwise the browser's `prefers-color-scheme` (the CSS default).
import { type Theme, themeFromName } from "./params";

export function applyTheme(theme: Theme | null): void {
  const root = document.documentElement;
  if (theme) {
    root.dataset.theme = theme;
    root.style.colorScheme = theme;
  } else {
    delete root.dataset.theme;
    root.style.colorScheme = "";
  }
}

/** The theme named by an MSC2873 `theme_change` request's data (`{name: "dark"}`). */
export function themeFromChange(data: unknown): Theme | null {
  if (data && typeof data === "object" && "name" in data && typeof data.name === "string") {
    return themeFromName(data.name);
  }
  return null;
}
