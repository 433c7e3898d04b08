// A run's logs: a level filter, pages of 500 lines, and "follow", which polls for
// lines newer than the last one shown and keeps the view at the bottom.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, LogLine } from "../api";
import { ErrorNote } from "../components";
import { levelName, when } from "../format";

const PAGE = 500;

export function Logs(props: { flowRunId: string; taskNames: Record<string, string>;
                              running: boolean; stateKey: string }) {
  const [level, setLevel] = useState(0);
  const [follow, setFollow] = useState(false);
  const [lines, setLines] = useState<LogLine[]>([]);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const box = useRef<HTMLDivElement>(null);
  const seen = useRef(new Set<string>());

  const body = (extra: Record<string, unknown>, offset = 0) => ({
    logs: { flow_run_id: { any_: [props.flowRunId] }, level: { ge_: level }, ...extra },
    sort: "TIMESTAMP_ASC", limit: PAGE, offset,
  });

  const add = (fresh: LogLine[], reset: boolean) => {
    if (reset) seen.current = new Set();
    const kept = fresh.filter((l) => !seen.current.has(l.id));
    kept.forEach((l) => seen.current.add(l.id));
    setLines((old) => (reset ? kept : [...old, ...kept]));
  };

  useEffect(() => {
    api<LogLine[]>("/logs/filter", body({})).then((page) => {
      add(page, true);
      setMore(page.length === PAGE);
      setError(undefined);
    }, setError);
  }, [props.flowRunId, level, props.stateKey]); // reread when the run changes state

  useEffect(() => {
    if (!follow) return;
    const timer = setInterval(() => {
      const last = lines[lines.length - 1];
      const after = last ? { timestamp: { after_: last.timestamp } } : {};
      api<LogLine[]>("/logs/filter", body(after)).then((page) => add(page, false), setError);
    }, 1000);
    return () => clearInterval(timer);
  }, [follow, lines, level, props.flowRunId]);

  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines, follow]);

  const loadMore = () => {
    api<LogLine[]>("/logs/filter", body({}, lines.length)).then((page) => {
      add(page, false);
      setMore(page.length === PAGE);
    }, setError);
  };

  return (
    <div class="logs">
      <div class="logs-tools">
        <label>Level{" "}
          <select name="level" value={level}
                  onChange={(e) => setLevel(Number(e.currentTarget.value))}>
            <option value={0}>all</option>
            <option value={10}>debug and up</option>
            <option value={20}>info and up</option>
            <option value={30}>warning and up</option>
            <option value={40}>error and up</option>
          </select>
        </label>
        <label><input type="checkbox" name="follow" checked={follow}
          onChange={(e) => setFollow(e.currentTarget.checked)} /> follow
          {props.running ? "" : " (the run has finished)"}</label>
        <span class="muted">{lines.length.toLocaleString()} lines</span>
      </div>
      <ErrorNote error={error} />
      <div class="log-lines" ref={box} data-testid="logs">
        {lines.length === 0 && <p class="muted">No log lines{level ? " at this level" : ""}.
          Lines logged with <code>get_run_logger()</code> in the flow and its tasks show
          here.</p>}
        {lines.map((l) => (
          <div class="log" key={l.id} data-level={levelName(l.level)}>
            <span class="t">{when(Date.parse(l.timestamp))}</span>
            <span class="lv">{levelName(l.level)}</span>
            <span class="src">{l.task_run_id ? (props.taskNames[l.task_run_id] ?? "task")
                                              : "flow"}</span>
            <span class="msg">{l.message}</span>
          </div>
        ))}
      </div>
      {more && !follow && <button onClick={loadMore}>Load more</button>}
    </div>
  );
}
