// Flows: each with how many runs it has (counted up to 10,000) and its latest run.
import { api, Flow } from "../api";
import { Empty, ErrorNote, Link, Pager, usePoll } from "../components";
import { ago } from "../format";
import { useLocation } from "../router";

const PAGE = 50;

interface Summary { runs: number; more: boolean }

export function FlowsPage() {
  const { query } = useLocation();
  const page = Math.max(0, Number(query.get("page") || 0));
  const { data, error } = usePoll(async () => {
    const flows = await api<Flow[]>("/flows/filter",
      { sort: "NAME_ASC", limit: PAGE, offset: page * PAGE });
    const summary = flows.length ? await api<Record<string, Summary>>("/ui/flows/summary",
      { flow_ids: flows.map((f) => f.id), at_most: 1000 }) : {};
    return { flows, summary, now: Date.now() };
  }, [page], 10000);
  return (
    <section>
      <header class="page-head"><h1>Flows</h1></header>
      <ErrorNote error={error} />
      {data && data.flows.length === 0 && page === 0 &&
        <Empty what="No flows yet." command="python examples/etl.py"
               hint="A flow appears here the first time one of its runs is recorded." />}
      {data && data.flows.length > 0 && <>
        <table data-testid="flows-table">
          <thead><tr><th>Flow</th><th>Runs</th><th>Created</th><th></th></tr></thead>
          <tbody>
            {data.flows.map((f) => {
              const s = data.summary[f.id];
              return (
                <tr key={f.id}>
                  <td><Link href={`/runs?flow=${f.id}`}>{f.name}</Link></td>
                  <td>{s ? `${s.runs.toLocaleString()}${s.more ? "+" : ""}` : "…"}</td>
                  <td title={f.created}>{ago(Date.parse(f.created), data.now)}</td>
                  <td><Link href={`/runs?flow=${f.id}`}>latest runs</Link> ·{" "}
                    <Link href={`/runs?flow=${f.id}&state=FAILED`}>failed runs</Link></td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <Pager page={page} full={data.flows.length >= PAGE} />
      </>}
    </section>
  );
}
