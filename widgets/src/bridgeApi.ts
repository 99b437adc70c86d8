// The bridge's widget API (`/widgetapi/v1/...`): an OpenID exchange, then bearer requests.
// Errors are hookshot's `{errcode, error}` bodies, raised as BridgeError.

export interface OpenIdToken {
  access_token?: string;
  matrix_server_name?: string;
}

export type ConfigSections = Record<string, boolean>;

export interface GenericServiceConfig {
  userIdPrefix?: string;
  allowJsTransformationFunctions?: boolean;
  waitForComplete?: boolean;
  /** Milliseconds a hook may live at most. */
  maxExpiryTime?: number;
  requireExpiryTime?: boolean;
}

/** One connection as the bridge lists it (hookshot's `getProvisionerDetails`). */
export interface ConnectionItem<C = Record<string, unknown>, S = Record<string, unknown>> {
  id: string;
  type: string;
  service: string;
  eventType: string;
  botUserId: string;
  config: C;
  secrets?: S;
  canEdit?: boolean;
  canSendMessages?: boolean;
  warning?: { header?: string; message?: string };
}

/** Ours: a declarative message template (docs/templates.md). */
export interface HookTemplate {
  plain: string;
  html?: string;
  msgtype?: string;
  empty_if?: string | string[];
}

export interface HookConfig {
  name: string;
  transformationFunction?: string;
  waitForComplete?: boolean;
  expirationDate?: string;
  template?: HookTemplate;
  /** Ours: a built-in format (alertmanager, grafana, uptime-kuma, sentry). */
  format?: string;
  secret?: boolean;
  [key: string]: unknown;
}

export type HookItem = ConnectionItem<
  HookConfig,
  { url: string; hookId: string; timeRemainingMs?: number }
>;

/** Ours: one request to a webhook and what became of it. */
export interface Delivery {
  /** Milliseconds since the epoch. */
  at: number;
  method: string;
  status: number;
  size: number;
  result: string;
  notes: string[];
}

export interface Listing<T> {
  connections: T[];
  canEdit: boolean;
}

export const GENERIC_HOOK_EVENT = "uk.half-shot.matrix-hookshot.generic.hook";
export const OUTBOUND_HOOK_EVENT = "uk.half-shot.matrix-hookshot.outbound-hook";
export const GITHUB_REPO_EVENT = "uk.half-shot.matrix-hookshot.github.repository";
export const GITLAB_REPO_EVENT = "uk.half-shot.matrix-hookshot.gitlab.repository";
/** Ours (hookshot has no Forgejo): hookshot/services/forgejo/wire.py FORGEJO_REPO. */
export const FORGEJO_REPO_EVENT = "org.hookshot-python.forgejo.repository";

/** A refused or failed request: HTTP status (0: no answer), hookshot's errcode and message. */
export class BridgeError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
  ) {
    super(message);
    this.name = "BridgeError";
  }
}

/** `https://hs.example/widgetapi/v1` for a widget served at `.../widgetapi/v1/static/`. */
export function apiBaseFromLocation(location: Pick<Location, "origin" | "pathname">): string {
  const path = location.pathname;
  const at = path.lastIndexOf("/static/");
  const prefix = at >= 0 ? path.slice(0, at) : "/widgetapi/v1";
  return `${location.origin}${prefix}`;
}

const room = (roomId: string): string => encodeURIComponent(roomId);

export class BridgeApi {
  private token: string | null = null;
  private login: Promise<string> | null = null;

  /** `getOpenId` asks the Matrix client for a token; called again if the session expires. */
  constructor(
    private readonly base: string,
    private readonly getOpenId: () => Promise<OpenIdToken>,
  ) {}

  /** Exchange an OpenID token for a session; returns the user id it belongs to. */
  async connect(): Promise<string> {
    const session = await this.request<{ userId: string }>("GET", "/session");
    return session.userId;
  }

  sections(): Promise<ConfigSections> {
    return this.request("GET", "/config/sections");
  }

  serviceConfig<T>(service: string): Promise<T> {
    return this.request("GET", `/service/${encodeURIComponent(service)}/config`);
  }

  /** The room's connections of one service ("generic", "github", ...). */
  list<T>(roomId: string, service: string): Promise<Listing<T>> {
    return this.request("GET", `/${room(roomId)}/connections/${encodeURIComponent(service)}`);
  }

  /** A new connection: `body` is the state of `eventType`. */
  create<T>(roomId: string, eventType: string, body: Record<string, unknown>): Promise<T> {
    return this.request(
      "POST",
      `/${room(roomId)}/connections/${encodeURIComponent(eventType)}`,
      body,
    );
  }

  /** The body is laid over the connection's current state; `null` unsets a key. */
  update<T>(roomId: string, id: string, body: Record<string, unknown>): Promise<T> {
    return this.request("PUT", `/${room(roomId)}/connections/${encodeURIComponent(id)}`, body);
  }

  async remove(roomId: string, id: string): Promise<void> {
    await this.request("DELETE", `/${room(roomId)}/connections/${encodeURIComponent(id)}`);
  }

  /** Ours: give a webhook a new URL; the old one stops working at once. */
  rotate<T>(roomId: string, id: string): Promise<T> {
    return this.request("POST", `/${room(roomId)}/connections/${encodeURIComponent(id)}/rotate`);
  }

  /** Ours: a webhook's recent deliveries, newest first. */
  async deliveries(roomId: string, id: string): Promise<Delivery[]> {
    const answer = await this.request<{ deliveries?: Delivery[] }>(
      "GET",
      `/${room(roomId)}/connections/${encodeURIComponent(id)}/log`,
    );
    return Array.isArray(answer?.deliveries) ? answer.deliveries : [];
  }

  /** What a new connection of `eventType` could point at (the user's repositories, ...). */
  targets<T>(eventType: string, filters: Record<string, string> = {}): Promise<T[]> {
    const query = new URLSearchParams(filters).toString();
    return this.request(
      "GET",
      `/targets/${encodeURIComponent(eventType)}${query ? "?" + query : ""}`,
    );
  }

  private session(): Promise<string> {
    if (this.token) return Promise.resolve(this.token);
    // One exchange at a time, shared by concurrent requests.
    this.login ??= this.exchange().finally(() => {
      this.login = null;
    });
    return this.login;
  }

  private async exchange(): Promise<string> {
    const openid = await this.getOpenId();
    if (!openid.access_token || !openid.matrix_server_name) {
      throw new BridgeError(
        0,
        "OPENID_INCOMPLETE",
        "Your Matrix client sent an incomplete OpenID token.",
      );
    }
    const answer = await this.send<{ token: string }>("POST", "/exchange_openid", undefined, {
      matrixServer: openid.matrix_server_name,
      openIdToken: openid.access_token,
    });
    this.token = answer.token;
    return answer.token;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const token = await this.session();
    try {
      return await this.send<T>(method, path, token, body);
    } catch (err) {
      // Sessions expire: log in again once, then give up.
      if (err instanceof BridgeError && err.status === 401 && this.token === token) {
        this.token = null;
        return this.send<T>(method, path, await this.session(), body);
      }
      throw err;
    }
  }

  private async send<T>(method: string, path: string, token?: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers,
        cache: "no-store",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new BridgeError(
        0,
        "NETWORK",
        "The bridge could not be reached. Check your connection and try again.",
      );
    }
    let parsed: unknown = null;
    try {
      parsed = await res.json();
    } catch {
      // Not JSON (a proxy's error page, an empty body): judged by the status alone.
    }
    if (res.ok) return parsed as T;
    const err = (parsed ?? {}) as { errcode?: unknown; error?: unknown };
    throw new BridgeError(
      res.status,
      typeof err.errcode === "string" ? err.errcode : "HTTP_" + res.status,
      typeof err.error === "string"
        ? err.error
        : `The bridge answered ${res.status} ${res.statusText}`.trim(),
    );
  }
}
