// Work pools: their queues and workers, with each worker's last heartbeat.
import { api } from "../api";
import { Empty, ErrorNote, usePoll } from "../components";
import { ago, when } from "../format";

interface WorkPool { id: string; name: string; type: string; is_paused: boolean;
                     concurrency_limit: number | null; status: string | null;
                     description: string | null }
interface WorkQueue { id: string; name: string; priority: number; is_paused: boolean;
                      concurrency_limit: number | null; last_polled: string | null;
                      status: string | null }
interface Worker { id: string; name: string; host: string | null; labels: string[];
                   last_heartbeat_time: string; status: string }

const STATUS_COLORS: Record<string, string> = { READY: "#2e9d5b", ONLINE: "#2e9d5b",
  NOT_READY: "#d99a1c", OFFLINE: "#6b6f76", PAUSED: "#6b6f76" };

function Status(props: { status: string | null }) {
  const s = props.status ?? "unknown";
  return <span class="badge" data-status={s}
               style={{ background: STATUS_COLORS[s] ?? "#9aa3ad" }}>
    {s.toLowerCase().replace("_", " ")}</span>;
}

export function WorkPoolsPage() {
  const { data, error } = usePoll(async () => {
    const pools = await api<WorkPool[]>("/work_pools/filter", { limit: 100 });
    const details = await Promise.all(pools.map(async (p) => {
      const name = encodeURIComponent(p.name);
      const [queues, workers] = await Promise.all([
        api<WorkQueue[]>(`/work_pools/${name}/queues/filter`, {}),
        api<Worker[]>(`/work_pools/${name}/workers/filter`, {}),
      ]);
      return { pool: p, queues, workers };
    }));
    return { details, now: Date.now() };
  }, [], 5000);
  return (
    <section>
      <header class="page-head"><h1>Work pools</h1></header>
      <ErrorNote error={error} />
      {data && data.details.length === 0 &&
        <Empty what="No work pools yet." command="headwater work-pool create my-pool"
               hint="Then start a worker for it: headwater worker start --pool my-pool." />}
      {data && data.details.map(({ pool, queues, workers }) => (
        <article class="pool" key={pool.id} data-pool={pool.name}>
          <h2>{pool.name} <Status status={pool.status} />{" "}
            <span class="muted">{pool.type}{pool.concurrency_limit !== null
              ? `, at most ${pool.concurrency_limit} runs at once` : ""}</span></h2>
          {pool.description && <p>{pool.description}</p>}
          <div class="columns">
            <div>
              <h3>Queues</h3>
              <table>
                <thead><tr><th>Queue</th><th>Priority</th><th>Status</th><th>Last polled</th>
                  </tr></thead>
                <tbody>{queues.map((q) => (
                  <tr key={q.id}><td>{q.name}</td><td>{q.priority}</td>
                    <td><Status status={q.status} /></td>
                    <td title={q.last_polled ?? ""}>{q.last_polled
                      ? ago(Date.parse(q.last_polled), data.now) : "never"}</td></tr>))}
                </tbody>
              </table>
            </div>
            <div>
              <h3>Workers</h3>
              {workers.length === 0 ? <p class="muted">No worker has polled this pool.
                Start one: <code>headwater worker start --pool {pool.name}</code></p>
                : <table data-testid="workers">
                  <thead><tr><th>Worker</th><th>Status</th><th>Last heartbeat</th>
                    <th>Host</th></tr></thead>
                  <tbody>{workers.map((w) => (
                    <tr key={w.id} data-worker={w.name}><td>{w.name}
                      {w.labels.map((l) => <span class="tag" key={l}>{l}</span>)}</td>
                      <td><Status status={w.status} /></td>
                      <td title={when(Date.parse(w.last_heartbeat_time))}>
                        {ago(Date.parse(w.last_heartbeat_time), data.now)}</td>
                      <td>{w.host ?? "—"}</td></tr>))}</tbody>
                </table>}
            </div>
          </div>
        </article>
      ))}
    </section>
  );
}
