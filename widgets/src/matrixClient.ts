// The link to the Matrix client that embeds us (matrix-widget-api over postMessage): the
// capability handshake, OpenID tokens and theme changes.
import {
  type IOpenIDCredentials,
  MatrixCapabilities,
  WidgetApi,
  WidgetApiToWidgetAction,
} from "matrix-widget-api";
import type { Theme } from "./params";
import { themeFromChange } from "./theme";

const HANDSHAKE_WAIT_MS = 5000;

export class ClientLinkError extends Error {
  constructor(
    message: string,
    readonly title = "Cannot talk to your Matrix client",
    readonly code = "CLIENT",
  ) {
    super(message);
    this.name = "ClientLinkError";
  }
}

export class ClientLink {
  private readonly api: WidgetApi;
  private readonly ready: Promise<boolean>;

  /** Starts listening at once: the client's first message may come as soon as we load. */
  constructor(widgetId: string, parentOrigin: string, onTheme: (theme: Theme) => void) {
    if (window.parent === window) {
      throw new ClientLinkError(
        "This page is a widget: open it from a room in your Matrix client.",
      );
    }
    this.api = new WidgetApi(widgetId, parentOrigin);
    this.api.requestCapability(MatrixCapabilities.RequiresClient);
    this.ready = new Promise<boolean>((resolve) => {
      const timer = window.setTimeout(() => resolve(false), HANDSHAKE_WAIT_MS);
      this.api.once("ready", () => {
        window.clearTimeout(timer);
        resolve(true);
      });
    });
    this.api.on(`action:${WidgetApiToWidgetAction.ThemeChange}`, (ev: CustomEvent) => {
      ev.preventDefault();
      const theme = themeFromChange(ev.detail?.data);
      if (theme) onTheme(theme);
      this.api.transport.reply(ev.detail, {});
    });
    this.api.start();
  }

  /** An OpenID token for the user, once the client has finished the handshake (or not
   * answered it in time: a client may still answer the request itself). */
  async openIdToken(): Promise<IOpenIDCredentials> {
    await this.ready;
    try {
      return await this.api.requestOpenIDConnectToken();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (/declined/i.test(message)) {
        throw new ClientLinkError(
          "The bridge needs to know who you are to show this room's settings. Try again and " +
            "allow the widget to verify your identity.",
          "You declined to share your identity",
          "OPENID_DECLINED",
        );
      }
      if (/timed out/i.test(message)) {
        throw new ClientLinkError(
          "Your Matrix client did not answer. Open this widget from a room in a client that " +
            "supports widgets; your browser may also be blocking it.",
        );
      }
      throw new ClientLinkError(`Your Matrix client refused to identify you: ${message}`);
    }
  }
}
