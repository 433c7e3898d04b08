// A flow run: its state and history, parameters, task-run timeline, subflows,
// logs, and the cancel / resume buttons (the same state changes as the CLI's).
import { useMemo, useState } from "preact/hooks";
import { api, FINAL_STATES, Flow, FlowRun, State, Timeline } from "../api";
import { ErrorNote, Link, StateBadge, usePoll } from "../components";
import { duration, parseTime, when } from "../format";
import { navigate } from "../router";
import { Logs } from "./logs";
import { Row, TimelineView } from "./timeline";

async function cancel(run: FlowRun): Promise<string> {
  const result = await api<{ status: string; details?: { reason?: string } }>(
    `/flow_runs/${run.id}/set_state`,
    { state: { type: "CANCELLING", name: "Cancelling",
               message: "Cancelled from the web UI." } });
  return result.status === "ACCEPT" ? "Cancelling: the process running it will stop it."
    : `Refused: ${result.details?.reason ?? result.status}`;
}

async function runAgain(run: FlowRun): Promise<string> {
  // A new run of the same deployment version, with this run's parameters.
  const created = await api<FlowRun>(`/deployments/${run.deployment_id}/create_flow_run`,
    { parameters: run.parameters, tags: run.tags,
      state: { type: "SCHEDULED", name: "Scheduled" } });
  navigate(`/runs/${created.id}`);
  return "Started a new run.";
}

async function resume(run: FlowRun): Promise<string> {
  const key = run.state?.state_details?.pause_key;
  if (key === undefined || key === null) {
    return "This run is paused without a pause key: no process waits to be resumed.";
  }
  const result = await api<{ status: string; details?: { reason?: string } }>(
    `/flow_runs/${run.id}/set_state`,
    { state: { type: "RUNNING", name: "Running", message: "Resumed from the web UI.",
               state_details: { pause_key: key } },
      expected_state_version: run.state_version });
  return result.status === "ACCEPT" ? "Resumed."
    : `Refused: ${result.details?.reason ?? result.status} (reload and try again)`;
}

function Actions(props: { run: FlowRun; reload: () => void }) {
  const { run } = props;
  const [note, setNote] = useState<string | null>(null);
  const act = (fn: (r: FlowRun) => Promise<string>) => {
    fn(run).then(setNote, (e: Error) => setNote(e.message)).finally(props.reload);
  };
  const type = run.state_type ?? "";
  return (
    <div class="actions">
      {!FINAL_STATES.has(type) && type !== "CANCELLING" &&
        <button class="danger" data-action="cancel" onClick={() => act(cancel)}>Cancel</button>}
      {type === "PAUSED" &&
        <button data-action="resume" onClick={() => act(resume)}>Resume</button>}
      {run.deployment_id && FINAL_STATES.has(type) &&
        <button data-action="run-again" title="A new run of this deployment, same parameters"
                onClick={() => act(runAgain)}>Run again</button>}
      {note && <span class="note" role="status">{note}</span>}
    </div>
  );
}

/** Why a Scheduled (or Late) run has not started: its time, deployment, pool, queues,
 * workers, labels, limits (`GET /flow_runs/{id}/waiting`, docs/workers.md). */
/** A reason's text, its `backticked` commands shown as code. */
function withCode(text: string) {
  return text.split("`").map((part, i) => (i % 2 === 1 ? <code key={i}>{part}</code> : part));
}

function Waiting(props: { id: string }) {
  const { data } = usePoll(() => api<{ reasons: { code: string; message: string }[] }>(
    `/flow_runs/${props.id}/waiting`), [props.id], 5000);
  if (!data || data.reasons.length === 0) return null;
  return (
    <div class="waiting" data-testid="waiting">
      <b>Why it has not started:</b>
      <ul>{data.reasons.map((r) => <li key={r.code} data-code={r.code}>{withCode(r.message)}</li>)}</ul>
    </div>
  );
}

function TaskDetails(props: { row: Row }) {
  const { data, error } = usePoll(() => api<State[]>(
    `/task_run_states/?task_run_id=${props.row.id}`), [props.row.id]);
  return (
    <div class="task-details" data-testid="task-details">
      <h3>{props.row.name}</h3>
      <ErrorNote error={error} />
      <StateList states={data ?? []} />
    </div>
  );
}

function StateList(props: { states: State[] }) {
  return (
    <ol class="states-list">
      {props.states.map((s, i) => {
        const next = props.states[i + 1];
        const lasted = next ? Date.parse(next.timestamp) - Date.parse(s.timestamp) : null;
        return (
          <li key={s.id}>
            <StateBadge type={s.type} name={s.name} /> {when(Date.parse(s.timestamp))}
            {lasted !== null && <span class="muted"> for {duration(lasted)}</span>}
            {s.message && <div class="message">{s.message}</div>}
          </li>
        );
      })}
    </ol>
  );
}

export function RunPage(props: { id: string }) {
  const [selected, setSelected] = useState<Row | null>(null);
  const [final, setFinal] = useState(false);
  const result = usePoll(async () => {
    // One round trip for everything but the flow's name (which needs the run's flow id).
    const flowOf = api<FlowRun>(`/flow_runs/${props.id}`)
      .then(async (run) => [run, await api<Flow>(`/flows/${run.flow_id}`)] as const);
    const [[run, flow], states, timeline] = await Promise.all([
      flowOf,
      api<State[]>(`/flow_run_states/?flow_run_id=${props.id}`),
      api<Timeline>(`/ui/flow_runs/${props.id}/timeline`),
    ]);
    setFinal(FINAL_STATES.has(run.state_type ?? ""));
    return { run, flow, states, timeline, now: Date.now() };
  }, [props.id], final ? 0 : 3000);
  const data = result.data;
  const taskNames = useMemo<Record<string, string>>(() => Object.fromEntries(
    (data?.timeline.task_runs ?? []).map((t) => [t[0], t[1]])), [data?.timeline]);
  if (!data) {
    return <section>{result.error ? <ErrorNote error={result.error} />
      : <p class="muted">Loading…</p>}</section>;
  }
  const { run, flow, states, timeline, now } = data;
  const start = parseTime(run.start_time);
  const end = parseTime(run.end_time);
  const running = !FINAL_STATES.has(run.state_type ?? "");
  return (
    <section class="run" data-testid="run-page">
      <header class="page-head">
        <h1><span class="muted"><Link href={`/runs?flow=${flow.id}`}>{flow.name}</Link> /</span>{" "}
          {run.name}</h1>
        <StateBadge type={run.state_type} name={run.state_name} />
        <Actions run={run} reload={result.reload} />
      </header>
      <dl class="facts">
        <dt>Id</dt><dd><code>{run.id}</code></dd>
        <dt>Started</dt><dd>{when(start ?? parseTime(run.expected_start_time))}</dd>
        <dt>Duration</dt><dd>{start === null ? "—" : duration((end ?? now) - start)}</dd>
        <dt>Task runs</dt><dd>{timeline.task_runs.length.toLocaleString()}</dd>
        {run.tags.length > 0 && <><dt>Tags</dt><dd>{run.tags.map((t) =>
          <span class="tag" key={t}>{t}</span>)}</dd></>}
        {run.deployment_id && <><dt>Deployment</dt><dd>
          <Link href={`/deployments/${run.deployment_id}`}>
            {run.deployment_version ? `version ${run.deployment_version}` : "its deployment"}
          </Link></dd></>}
        {run.parent_flow_run_id && <><dt>Subflow of</dt><dd>
          <Link href={`/runs/${run.parent_flow_run_id}`}>the parent run</Link></dd></>}
        {run.state?.message && <><dt>Message</dt><dd class="message">{run.state.message}</dd></>}
      </dl>
      <ErrorNote error={result.error} />
      {run.state_type === "SCHEDULED" && <Waiting id={run.id} />}
      <h2>Task runs</h2>
      <TimelineView timeline={timeline} now={now} onSelect={setSelected} />
      {selected && <TaskDetails row={selected} />}
      {timeline.subflows.length > 0 && <>
        <h2>Subflow runs</h2>
        <ul class="subflows" data-testid="subflows">
          {timeline.subflows.map((s) => (
            <li key={s[0]}><StateBadge type={s[3]} name={s[4]} />{" "}
              <Link href={`/runs/${s[0]}`}>{s[1]}</Link></li>))}
        </ul>
      </>}
      <div class="columns">
        <div>
          <h2>State history</h2>
          <StateList states={states} />
        </div>
        <div>
          <h2>Parameters</h2>
          {Object.keys(run.parameters).length === 0 ? <p class="muted">No parameters.</p>
            : <pre class="params">{JSON.stringify(run.parameters, null, 2)}</pre>}
        </div>
      </div>
      <h2>Logs</h2>
      <Logs flowRunId={run.id} taskNames={taskNames} running={running}
            stateKey={`${run.state_type}:${run.state?.timestamp ?? ""}`} />
    </section>
  );
}
