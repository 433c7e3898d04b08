// Deployments: the current version of each, its schedules (pause and resume each,
// or the whole deployment), its next runs, its versions and its recent runs.
import { useState } from "preact/hooks";
import { api, FlowRun } from "../api";
import { Empty, ErrorNote, Link, Pager, StateBadge, usePoll } from "../components";
import { ago, when } from "../format";
import { navigate, useLocation } from "../router";
import { RunsTable, useFlowNames } from "./runs";

const PAGE = 50;

export interface Schedule {
  id: string;
  schedule: Record<string, unknown>;
  active: boolean;
  parameters: Record<string, unknown>;
  slug: string | null;
}

export interface Deployment {
  id: string;
  name: string;
  flow_id: string;
  flow_name: string | null;
  project: string;
  version: string | null;
  version_hash: string;
  archived: boolean;
  paused: boolean;
  description: string | null;
  tags: string[];
  parameters: Record<string, unknown>;
  entrypoint: string | null;
  work_pool_name: string | null;
  work_queue_name: string | null;
  created: string;
  updated: string;
  schedules: Schedule[];
}

/** A schedule in words: "cron 0 * * * * (Europe/Paris)", "every 1h", "rrule ...". */
export function describeSchedule(s: Record<string, unknown>): string {
  const zone = s.timezone ? ` (${s.timezone})` : "";
  if (typeof s.cron === "string") return `cron ${s.cron}${zone}`;
  if (typeof s.interval === "number") {
    const seconds = s.interval;
    const text = seconds % 86400 === 0 ? `${seconds / 86400}d` : seconds % 3600 === 0
      ? `${seconds / 3600}h` : seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;
    return `every ${text}${zone}`;
  }
  if (typeof s.rrule === "string") return `rrule ${s.rrule}${zone}`;
  return JSON.stringify(s);
}

async function nextRuns(ids: string[], limit: number): Promise<FlowRun[]> {
  if (!ids.length) return [];
  return api<FlowRun[]>("/flow_runs/filter", {
    deployments: { id: { any_: ids } },
    flow_runs: { state: { type: { any_: ["SCHEDULED"] } },
                 expected_start_time: { after_: new Date(Date.now() - 3600e3).toISOString() } },
    sort: "EXPECTED_START_TIME_ASC", limit });
}

export function DeploymentsPage() {
  const { query } = useLocation();
  const page = Math.max(0, Number(query.get("page") || 0));
  const { data, error, reload } = usePoll(async () => {
    const deployments = await api<Deployment[]>("/deployments/filter",
      { sort: "NAME_ASC", limit: PAGE, offset: page * PAGE });
    const upcoming = await nextRuns(deployments.map((d) => d.id), 500);
    const next: Record<string, FlowRun> = {};
    for (const r of upcoming) {
      if (r.deployment_id && !(r.deployment_id in next)) next[r.deployment_id] = r;
    }
    return { deployments, next, now: Date.now() };
  }, [page], 10000);
  return (
    <section>
      <header class="page-head"><h1>Deployments</h1></header>
      <ErrorNote error={error} />
      {data && data.deployments.length === 0 && page === 0 &&
        <Empty what="No deployments yet."
               command="headwater deploy flows/etl.py:etl --name prod"
               hint="Or serve one from Python: etl.serve(&quot;hourly&quot;, interval=3600)." />}
      {data && data.deployments.length > 0 && <>
        <table data-testid="deployments-table">
          <thead><tr><th>Deployment</th><th>Version</th><th>Schedules</th><th>Next run</th>
            <th>Work pool</th><th></th></tr></thead>
          <tbody>
            {data.deployments.map((d) => {
              const next = data.next[d.id];
              return (
                <tr key={d.id} data-deployment={`${d.flow_name}/${d.name}`}>
                  <td><Link href={`/deployments/${d.id}`}>{d.flow_name}/{d.name}</Link>
                    {d.paused && <span class="badge paused-badge">paused</span>}</td>
                  <td>{d.version ?? d.version_hash.slice(0, 8)}</td>
                  <td>{d.schedules.length === 0 ? <span class="muted">none</span>
                    : d.schedules.map((s) => <div key={s.id}
                        class={s.active && !d.paused ? "" : "muted"}>
                        {describeSchedule(s.schedule)}{s.active ? "" : " (paused)"}</div>)}</td>
                  <td>{next ? <Link href={`/runs/${next.id}`}
                    title={when(Date.parse(next.expected_start_time ?? ""))}>
                    {ago(Date.parse(next.expected_start_time ?? ""), data.now)}</Link>
                    : <span class="muted">—</span>}</td>
                  <td>{d.work_pool_name ?? <span class="muted">served</span>}</td>
                  <td><PauseButton deployment={d} reload={reload} /></td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <Pager page={page} full={data.deployments.length >= PAGE} />
      </>}
    </section>
  );
}

function PauseButton(props: { deployment: Deployment; reload: () => void }) {
  const d = props.deployment;
  const action = d.paused ? "resume_deployment" : "pause_deployment";
  return (
    <button data-action={d.paused ? "resume-deployment" : "pause-deployment"}
            onClick={() => api(`/deployments/${d.id}/${action}`, {}).finally(props.reload)}>
      {d.paused ? "Resume" : "Pause"}</button>
  );
}

function ScheduleRow(props: { deployment: Deployment; schedule: Schedule;
                              reload: () => void }) {
  const { deployment, schedule } = props;
  const toggle = () => api(`/deployments/${deployment.id}/schedules/${schedule.id}`,
    { active: !schedule.active }, "PATCH").finally(props.reload);
  return (
    <li data-schedule={schedule.id}>
      {describeSchedule(schedule.schedule)}{" "}
      <span class={schedule.active ? "badge on-badge" : "badge paused-badge"}>
        {schedule.active ? "active" : "paused"}</span>{" "}
      {Object.keys(schedule.parameters).length > 0 &&
        <code class="muted">{JSON.stringify(schedule.parameters)}</code>}{" "}
      <button data-action={schedule.active ? "pause-schedule" : "resume-schedule"}
              onClick={toggle}>{schedule.active ? "Pause" : "Resume"}</button>
    </li>
  );
}

export function DeploymentPage(props: { id: string }) {
  const [note, setNote] = useState<string | null>(null);
  const { data, error, reload } = usePoll(async () => {
    const deployment = await api<Deployment>(`/deployments/${props.id}`);
    const versions = await api<Deployment[]>(
      `/deployments/name/${encodeURIComponent(deployment.flow_name ?? "")}/` +
      `${encodeURIComponent(deployment.name)}/versions`);
    const ids = versions.map((v) => v.id);
    const [upcoming, recent] = await Promise.all([
      nextRuns([deployment.id], 10),
      api<FlowRun[]>("/flow_runs/filter", {
        deployments: { id: { any_: ids.length ? ids : [deployment.id] } },
        flow_runs: { state: { type: { not_any_: ["SCHEDULED"] } } },
        sort: "EXPECTED_START_TIME_DESC", limit: 20 }),
    ]);
    return { deployment, versions, upcoming, recent, now: Date.now() };
  }, [props.id], 5000);
  const names = useFlowNames((data?.recent ?? []).map((r) => r.flow_id));
  if (!data) {
    return <section>{error ? <ErrorNote error={error} /> : <p class="muted">Loading…</p>}
    </section>;
  }
  const { deployment: d, versions, upcoming, recent, now } = data;
  const runNow = () => api<FlowRun>(`/deployments/${d.id}/create_flow_run`,
    { state: { type: "SCHEDULED", name: "Scheduled" } })
    .then((run) => navigate(`/runs/${run.id}`), (e: Error) => setNote(e.message));
  return (
    <section data-testid="deployment-page">
      <header class="page-head">
        <h1><span class="muted"><Link href={`/runs?flow=${d.flow_id}`}>{d.flow_name}</Link>
          {" "}/</span> {d.name}</h1>
        {d.archived && <span class="badge paused-badge">archived version</span>}
        {d.paused && <span class="badge paused-badge">paused</span>}
        <div class="actions">
          {!d.archived && <PauseButton deployment={d} reload={reload} />}
          {!d.archived && <button data-action="run-deployment" onClick={runNow}>Run now</button>}
          {note && <span class="note" role="status">{note}</span>}
        </div>
      </header>
      <dl class="facts">
        <dt>Version</dt><dd>{d.version ?? "—"} <code class="muted">{d.version_hash.slice(0, 12)}
          </code></dd>
        <dt>Entrypoint</dt><dd><code>{d.entrypoint ?? "—"}</code></dd>
        <dt>Work pool</dt><dd>{d.work_pool_name
          ? `${d.work_pool_name} / ${d.work_queue_name ?? "default"}`
          : "none (run by the process serving it)"}</dd>
        {d.description && <><dt>Description</dt><dd>{d.description}</dd></>}
        {d.tags.length > 0 && <><dt>Tags</dt><dd>{d.tags.map((t) =>
          <span class="tag" key={t}>{t}</span>)}</dd></>}
      </dl>
      <h2>Schedules</h2>
      {d.schedules.length === 0 ? <p class="muted">No schedules: runs start when asked
        (<code>headwater deployment run {d.flow_name}/{d.name}</code>).</p>
        : <ul class="schedules" data-testid="schedules">{d.schedules.map((s) =>
          <ScheduleRow key={s.id} deployment={d} schedule={s} reload={reload} />)}</ul>}
      <h2>Next runs</h2>
      {upcoming.length === 0 ? <p class="muted" data-testid="next-runs">None scheduled
        {d.paused ? " (the deployment is paused)" : ""}.</p>
        : <ul data-testid="next-runs">{upcoming.map((r) => (
          <li key={r.id}><Link href={`/runs/${r.id}`}>{r.name}</Link>{" "}
            {when(Date.parse(r.expected_start_time ?? ""))}{" "}
            <span class="muted">({ago(Date.parse(r.expected_start_time ?? ""), now)})</span>
          </li>))}</ul>}
      <div class="columns">
        <div>
          <h2>Parameters</h2>
          {Object.keys(d.parameters).length === 0 ? <p class="muted">No default parameters.</p>
            : <pre class="params">{JSON.stringify(d.parameters, null, 2)}</pre>}
        </div>
        <div>
          <h2>Versions</h2>
          <table data-testid="versions">
            <thead><tr><th>Version</th><th>Created</th><th></th></tr></thead>
            <tbody>{versions.map((v) => (
              <tr key={v.id}>
                <td><Link href={`/deployments/${v.id}`}>{v.version ?? v.version_hash.slice(0, 8)}
                  </Link></td>
                <td title={v.created}>{ago(Date.parse(v.created), now)}</td>
                <td>{v.archived ? <span class="muted">archived</span>
                  : <StateBadge type="COMPLETED" name="current" />}</td>
              </tr>))}</tbody>
          </table>
        </div>
      </div>
      <h2>Recent runs</h2>
      {recent.length === 0 ? <p class="muted">No runs yet.</p>
        : <RunsTable runs={recent} flowNames={names} now={now} />}
    </section>
  );
}
