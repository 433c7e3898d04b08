// The API client: every call goes to /api with the stored key as a Bearer token.

const KEY_STORAGE = "headwater.apiKey";

/** Raised when the server wants an API key (none stored, or a wrong one). */
export class AuthError extends Error {}

type Listener = () => void;
const authListeners = new Set<Listener>();

/** Call `fn` whenever a request is refused for want of a valid key. */
export function onAuthRequired(fn: Listener): () => void {
  authListeners.add(fn);
  return () => authListeners.delete(fn);
}

export function storedKey(): string | null {
  try {
    return localStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}

export function storeKey(key: string | null): void {
  if (key) localStorage.setItem(KEY_STORAGE, key);
  else localStorage.removeItem(KEY_STORAGE);
}

function detailText(detail: unknown): string {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ");
  }
  return JSON.stringify(detail);
}

/** GET when `body` is undefined, else POST (or `method`) with JSON. */
export async function api<T>(path: string, body?: unknown, method?: string,
                             key: string | null = storedKey()): Promise<T> {
  const headers: Record<string, string> = {};
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`/api${path}`, {
    method: method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    authListeners.forEach((fn) => fn());
    throw new AuthError("This server requires an API key.");
  }
  if (!response.ok) {
    let text = `${response.status} ${response.statusText}`;
    try {
      text = detailText((await response.json()).detail);
    } catch {
      /* not JSON */
    }
    throw new Error(text);
  }
  if (response.status === 204) return undefined as T;
  const raw = await response.text();
  return (raw ? JSON.parse(raw) : undefined) as T;
}

/** Whether the API answers with `key` (used by the key prompt). */
export async function checkKey(key: string): Promise<boolean> {
  try {
    await api("/hello", undefined, "GET", key);
    return true;
  } catch (error) {
    if (error instanceof AuthError) return false;
    throw error;
  }
}

// ----------------------------------------------------------------- API shapes
export interface State {
  id: string;
  type: string;
  name: string | null;
  timestamp: string;
  message: string | null;
  state_details: Record<string, unknown>;
}

export interface FlowRun {
  id: string;
  name: string;
  flow_id: string;
  state: State | null;
  state_type: string | null;
  state_name: string | null;
  state_version?: number;
  tags: string[];
  parameters: Record<string, unknown>;
  expected_start_time: string | null;
  start_time: string | null;
  end_time: string | null;
  total_run_time: number;
  run_count: number;
  parent_flow_run_id: string | null;
  parent_task_run_id: string | null;
  created: string;
  deployment_id?: string | null;
  deployment_version?: string | null;
}

export interface Flow {
  id: string;
  name: string;
  tags: string[];
  created: string;
}

export interface LogLine {
  id: string;
  name: string;
  level: number;
  message: string;
  timestamp: string;
  flow_run_id: string | null;
  task_run_id: string | null;
}

/** [id, name, state_type, state_name, run_count, expected, start, end] (epoch ms) */
export type TimelineTask = [string, string, string | null, string | null, number,
  number | null, number | null, number | null];
/** A state: [epoch ms, type, name (null: the type's default name)] */
export type StatePoint = [number, string, string | null];
/** [id, name, parent_task_run_id, state_type, state_name, expected, start, end] */
export type TimelineSubflow = [string, string, string | null, string | null, string | null,
  number | null, number | null, number | null];

export interface Timeline {
  task_runs: TimelineTask[];
  subflows: TimelineSubflow[];
  truncated: boolean;
}

/** [id, name, flow_id, state_type, state_name, expected, start, end] */
export type HistoryRow = [string, string, string, string | null, string | null,
  number | null, number | null, number | null];

export const FINAL_STATES = new Set(["COMPLETED", "FAILED", "CANCELLED", "CRASHED"]);
export const STATE_TYPES = ["SCHEDULED", "PENDING", "RUNNING", "PAUSED", "CANCELLING",
  "COMPLETED", "FAILED", "CANCELLED", "CRASHED"];
