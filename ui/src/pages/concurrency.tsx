// Concurrency limits, tag and global, with their slots in use and who holds them.
import { api, FlowRun } from "../api";
import { Empty, ErrorNote, Link, usePoll } from "../components";

interface LimitStatus { name: string; limit: number; slot_decay_per_second: number;
                        active_slots: number; decaying_slots: number; holders: string[] }
interface TaskRunRef { id: string; name: string; flow_run_id: string | null }

const TAG = "tag:";

/** Holders are task run ids (tag limits, `concurrency()` in a task) or other labels. */
async function resolveHolders(ids: string[]): Promise<Record<string, TaskRunRef>> {
  const uuids = ids.filter((h) => /^[0-9a-f-]{36}$/i.test(h)).slice(0, 200);
  if (!uuids.length) return {};
  const [tasks, flows] = await Promise.all([
    api<TaskRunRef[]>("/task_runs/filter", { task_runs: { id: { any_: uuids } }, limit: 200 }),
    api<FlowRun[]>("/flow_runs/filter", { flow_runs: { id: { any_: uuids } }, limit: 200 }),
  ]);
  const out: Record<string, TaskRunRef> = {};
  for (const t of tasks) out[t.id] = t;
  for (const f of flows) out[f.id] = { id: f.id, name: f.name, flow_run_id: f.id };
  return out;
}

function Holders(props: { holders: string[]; known: Record<string, TaskRunRef> }) {
  if (!props.holders.length) return <span class="muted">nobody</span>;
  return (
    <ul class="holders">
      {props.holders.map((h) => {
        const ref = props.known[h];
        return <li key={h}>{ref?.flow_run_id
          ? <Link href={`/runs/${ref.flow_run_id}`}>{ref.name}</Link>
          : <code>{h}</code>}</li>;
      })}
    </ul>
  );
}

export function ConcurrencyPage() {
  const { data, error } = usePoll(async () => {
    const limits = await api<LimitStatus[]>("/concurrency_limits/status", { usage: true });
    const known = await resolveHolders(limits.flatMap((l) => l.holders));
    return { limits, known };
  }, [], 5000);
  return (
    <section>
      <header class="page-head"><h1>Concurrency limits</h1></header>
      <ErrorNote error={error} />
      {data && data.limits.length === 0 &&
        <Empty what="No concurrency limits yet."
               command="headwater concurrency-limit create my-tag 5"
               hint="A tag limit caps how many task runs with that tag run at once; global
                     limits (for concurrency() and rate_limit()) are made through the API
                     (POST /api/v2/concurrency_limits/)." />}
      {data && data.limits.length > 0 &&
        <table data-testid="limits-table">
          <thead><tr><th>Limit</th><th>Kind</th><th>Slots in use</th><th>Held by</th></tr></thead>
          <tbody>
            {data.limits.map((l) => (
              <tr key={l.name} data-limit={l.name}>
                <td>{l.name.startsWith(TAG) ? l.name.slice(TAG.length) : l.name}</td>
                <td>{l.name.startsWith(TAG) ? "tag"
                  : l.slot_decay_per_second > 0 ? "global (rate limit)" : "global"}</td>
                <td><meter min={0} max={Math.max(l.limit, 1)} value={l.active_slots} />{" "}
                  {l.active_slots} / {l.limit}
                  {l.decaying_slots > 0 && <span class="muted"> (+{l.decaying_slots.toFixed(1)}
                    decaying)</span>}</td>
                <td><Holders holders={l.holders} known={data.known} /></td>
              </tr>
            ))}
          </tbody>
        </table>}
    </section>
  );
}
