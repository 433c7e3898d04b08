// The flow runs page: filters in the URL, a page of runs from the server, a
// bounded count, the run-history chart, all refreshed every few seconds.
import { useState } from "preact/hooks";
import { api, Flow, FlowRun, HistoryRow, STATE_TYPES } from "../api";
import { Empty, ErrorNote, Link, Pager, StateBadge, usePoll } from "../components";
import { ago, duration, parseTime, when } from "../format";
import { setQuery, useLocation } from "../router";
import { HistoryChart } from "./history-chart";

const PAGE = 50;
const RANGES: Record<string, number> = { "1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3,
  "30d": 30 * 86400e3 };

export interface RunFilters {
  flow: string | null;
  deployment: string | null;
  states: string[];
  tags: string[];
  range: string;
  after: string | null;
  before: string | null;
}

export function readFilters(query: URLSearchParams): RunFilters {
  const list = (k: string) => (query.get(k) || "").split(",").map((s) => s.trim())
    .filter(Boolean);
  return { flow: query.get("flow"), deployment: query.get("deployment"),
    states: list("state"), tags: list("tags"), range: query.get("range") || "all",
    after: query.get("after"), before: query.get("before") };
}

/** The Prefect-shaped filter body of the filters. */
export function filterBody(f: RunFilters, now: number): Record<string, unknown> {
  const runs: Record<string, unknown> = {};
  if (f.states.length) runs.state = { type: { any_: f.states } };
  if (f.tags.length) runs.tags = { all_: f.tags };
  const time: Record<string, string> = {};
  if (f.range in RANGES) time.after_ = new Date(now - RANGES[f.range]).toISOString();
  if (f.range === "custom") {
    if (f.after) time.after_ = new Date(f.after).toISOString();
    if (f.before) time.before_ = new Date(f.before).toISOString();
  }
  if (Object.keys(time).length) runs.expected_start_time = time;
  const body: Record<string, unknown> = { flow_runs: runs };
  if (f.flow) body.flows = { id: { any_: [f.flow] } };
  if (f.deployment) body.deployments = { id: { any_: [f.deployment] } };
  return body;
}

export function useFlowNames(ids: string[]): Record<string, string> {
  const key = [...new Set(ids)].sort().join(",");
  const { data } = usePoll(async () => {
    if (!key) return {};
    const flows = await api<Flow[]>("/flows/filter",
      { flows: { id: { any_: key.split(",") } }, limit: 200 });
    return Object.fromEntries(flows.map((f) => [f.id, f.name]));
  }, [key]);
  return data ?? {};
}

interface DeploymentRef { id: string; name: string; flow_name: string | null }

function Filters(props: { filters: RunFilters; flows: Flow[]; deployments: DeploymentRef[] }) {
  const { filters, flows, deployments } = props;
  const [tags, setTags] = useState(filters.tags.join(", "));
  const toggle = (state: string) => {
    const next = filters.states.includes(state) ? filters.states.filter((s) => s !== state)
      : [...filters.states, state];
    setQuery({ state: next.join(","), page: null });
  };
  return (
    <div class="filters">
      <label>Flow{" "}
        <select name="flow" value={filters.flow ?? ""}
                onChange={(e) => setQuery({ flow: e.currentTarget.value, page: null })}>
          <option value="">all flows</option>
          {flows.map((f) => <option key={f.id} value={f.id}>{f.name}</option>)}
        </select>
      </label>
      {deployments.length > 0 && <label>Deployment{" "}
        <select name="deployment" value={filters.deployment ?? ""}
                onChange={(e) => setQuery({ deployment: e.currentTarget.value, page: null })}>
          <option value="">any</option>
          {deployments.map((d) => <option key={d.id} value={d.id}>
            {d.flow_name}/{d.name}</option>)}
        </select>
      </label>}
      <label>Time{" "}
        <select name="range" value={filters.range}
                onChange={(e) => setQuery({ range: e.currentTarget.value, page: null })}>
          <option value="all">any time</option>
          <option value="1h">last hour</option>
          <option value="24h">last 24 hours</option>
          <option value="7d">last 7 days</option>
          <option value="30d">last 30 days</option>
          <option value="custom">between…</option>
        </select>
      </label>
      {filters.range === "custom" && <>
        <input type="datetime-local" name="after" value={filters.after ?? ""}
               onChange={(e) => setQuery({ after: e.currentTarget.value, page: null })} />
        <input type="datetime-local" name="before" value={filters.before ?? ""}
               onChange={(e) => setQuery({ before: e.currentTarget.value, page: null })} />
      </>}
      <form class="inline" onSubmit={(e) => {
        e.preventDefault();
        setQuery({ tags: tags.split(",").map((t) => t.trim()).filter(Boolean).join(","),
                   page: null });
      }}>
        <label>Tags <input name="tags" placeholder="tag1, tag2" value={tags}
                           onInput={(e) => setTags(e.currentTarget.value)} /></label>
      </form>
      <div class="states" role="group" aria-label="States">
        {STATE_TYPES.map((s) => (
          <button type="button" key={s} class={filters.states.includes(s) ? "on" : ""}
                  data-state-toggle={s} onClick={() => toggle(s)}>{s.toLowerCase()}</button>
        ))}
      </div>
    </div>
  );
}

export function RunsTable(props: { runs: FlowRun[]; flowNames: Record<string, string>;
                                   now: number }) {
  return (
    <table class="runs" data-testid="runs-table">
      <thead><tr><th>State</th><th>Run</th><th>Flow</th><th>Start</th><th>Duration</th>
        <th>Tags</th></tr></thead>
      <tbody>
        {props.runs.map((r) => {
          const start = parseTime(r.start_time) ?? parseTime(r.expected_start_time);
          const end = parseTime(r.end_time);
          const began = parseTime(r.start_time);
          return (
            <tr key={r.id} data-run-id={r.id}>
              <td><StateBadge type={r.state_type} name={r.state_name} /></td>
              <td><Link href={`/runs/${r.id}`}>{r.name}</Link>
                {r.parent_flow_run_id && <span class="muted"> (subflow)</span>}</td>
              <td>{props.flowNames[r.flow_id] ?? "…"}</td>
              <td title={when(start)}>{ago(start, props.now)}</td>
              <td>{began === null ? "—" : duration((end ?? props.now) - began)}</td>
              <td>{r.tags.map((t) => <span class="tag" key={t}>{t}</span>)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function RunsPage() {
  const { query } = useLocation();
  const filters = readFilters(query);
  const page = Math.max(0, Number(query.get("page") || 0));
  const [live, setLive] = useState(true);
  const key = JSON.stringify([filters, page]);
  const flows = usePoll(() => api<Flow[]>("/flows/filter", { limit: 200, sort: "NAME_ASC" }),
                        [], 30000);
  // Servers without deployments (or older ones) answer 404: no deployment filter then.
  const deployments = usePoll(() => api<DeploymentRef[]>("/deployments/filter",
    { limit: 200, sort: "NAME_ASC" }).catch(() => []), [], 30000);
  const result = usePoll(async () => {
    const now = Date.now();
    const body = filterBody(filters, now);
    const [runs, count, history] = await Promise.all([
      api<FlowRun[]>("/flow_runs/filter", { ...body, sort: "EXPECTED_START_TIME_DESC",
                                             limit: PAGE, offset: page * PAGE }),
      api<{ count: number; more: boolean }>("/ui/flow_runs/count", body),
      api<HistoryRow[]>("/ui/flow_runs/history", { ...body, sort: "EXPECTED_START_TIME_DESC",
                                                    limit: 500 }),
    ]);
    return { runs, count, history, now };
  }, [key], live ? 5000 : 0);
  const data = result.data;
  const pageNames = useFlowNames((data?.runs ?? []).map((r) => r.flow_id));
  const flowNames = { ...Object.fromEntries((flows.data ?? []).map((f) => [f.id, f.name])),
    ...pageNames };
  const filtered = filters.flow || filters.deployment || filters.states.length ||
    filters.tags.length || filters.range !== "all";
  return (
    <section>
      <header class="page-head">
        <h1>Flow runs</h1>
        <label class="live"><input type="checkbox" checked={live}
          onChange={(e) => setLive(e.currentTarget.checked)} /> live (every 5 s)</label>
      </header>
      <Filters filters={filters} flows={flows.data ?? []}
               deployments={deployments.data ?? []} />
      <ErrorNote error={result.error} />
      {data && data.count.count === 0 && !filtered &&
        <Empty what="No flow runs yet."
               command="python examples/etl.py"
               hint="Calling any @flow function records a run; with HEADWATER_API_URL set, it
                     records to that server, else to the embedded database this UI reads." />}
      {data && data.count.count === 0 && filtered &&
        <Empty what="No flow runs match these filters." />}
      {data && data.count.count > 0 && <>
        <HistoryChart rows={data.history} now={data.now} />
        <Pager page={page} full={data.runs.length >= PAGE} labels={["← newer", "older →"]}>
          <span data-testid="runs-count">
            {(page * PAGE + 1).toLocaleString()}–{(page * PAGE + data.runs.length)
              .toLocaleString()} of {data.count.count.toLocaleString()}{data.count.more ? "+" : ""}
          </span>
        </Pager>
        <RunsTable runs={data.runs} flowNames={flowNames} now={data.now} />
      </>}
      {result.loading && !data && <p class="muted">Loading…</p>}
    </section>
  );
}
