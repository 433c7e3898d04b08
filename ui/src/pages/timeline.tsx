// The task-run timeline: one row per task run (and subflow run), drawn on a canvas
// that only paints the rows in view, so 10,000 task runs scroll smoothly.
//
// Each row shows the task run's state history: attempts (RUNNING) as solid bars
// coloured by how the attempt ended, waits (SCHEDULED, PENDING, AwaitingRetry,
// PAUSED) as thin bars between them. A task run with retries shows several solid
// bars and "↻ n" after its name. The state histories of the rows in view are
// fetched as they scroll in; until then a row shows its wait (expected start to
// start) and its run (start to end) from the run itself.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, FINAL_STATES, StatePoint, Timeline, TimelineTask } from "../api";
import { duration, stateColor, when } from "../format";
import { navigate } from "../router";

const ROW = 18;
const LABEL = 240;
const AXIS = 20;
const VIEW = 420;

export interface Segment { from: number; to: number; type: string; name: string | null;
                           wait: boolean }
export interface Row { id: string; name: string; kind: "task" | "subflow";
                       type: string | null; stateName: string | null; attempts: number;
                       segments: Segment[]; start: number | null; end: number | null }

const WAITS = new Set(["SCHEDULED", "PENDING", "PAUSED"]);

/** A run's state history as segments: each state lasts until the next one. */
export function segments(states: StatePoint[], now: number): Segment[] {
  const out: Segment[] = [];
  states.forEach(([at, type, name], i) => {
    const next = states[i + 1];
    if (!next && !(type === "RUNNING" || WAITS.has(type) || type === "CANCELLING")) return;
    const to = next ? next[0] : now;
    if (type === "RUNNING") {
      // An attempt, coloured by how it ended (the next state), or running still.
      const outcome = next ? (next[2] === "AwaitingRetry" ? "FAILED" : next[1]) : "RUNNING";
      out.push({ from: at, to, type: outcome, name: next ? next[2] : null, wait: false });
    } else {
      out.push({ from: at, to, type, name, wait: true });
    }
  });
  return out;
}

/** Segments from a task run's own times, before its states are loaded. */
function roughSegments(t: TimelineTask, now: number): Segment[] {
  const [, , type, name, , expected, start, end] = t;
  const out: Segment[] = [];
  if (expected !== null && start !== null && start > expected) {
    out.push({ from: expected, to: start, type: "PENDING", name: null, wait: true });
  }
  if (start !== null) {
    out.push({ from: start, to: end ?? (FINAL_STATES.has(type ?? "") ? start : now),
               type: type ?? "RUNNING", name, wait: false });
  }
  return out;
}

export function buildRows(timeline: Timeline, now: number): Row[] {
  const rows: Row[] = timeline.task_runs.map((t) => ({
    id: t[0], name: t[1], kind: "task", type: t[2], stateName: t[3],
    attempts: Math.max(t[4], 1), segments: roughSegments(t, now), start: t[6] ?? t[5],
    end: t[7] }));
  for (const s of timeline.subflows) {
    const start = s[6] ?? s[5];
    const end = s[7];
    const type = s[3];
    rows.push({ id: s[0], name: s[1], kind: "subflow", type, stateName: s[4], attempts: 1,
      segments: start === null ? [] : [{ from: start, to: end ?? now, type: type ?? "RUNNING",
                                         name: s[4], wait: false }], start, end });
  }
  rows.sort((a, b) => (a.start ?? Infinity) - (b.start ?? Infinity));
  return rows;
}

export function TimelineView(props: { timeline: Timeline; now: number;
                                      onSelect?: (row: Row) => void }) {
  const { timeline, now } = props;
  const [text, setText] = useState("");
  const [onlyRetried, setOnlyRetried] = useState(false);
  const all = useMemo(() => buildRows(timeline, now), [timeline, now]);
  const rows = useMemo(() => all.filter((r) =>
    (!text || r.name.toLowerCase().includes(text.toLowerCase())) &&
    (!onlyRetried || r.attempts > 1 || r.type === "FAILED")), [all, text, onlyRetried]);
  const retried = useMemo(() => all.filter((r) => r.attempts > 1).length, [all]);
  const scroller = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  // The time axis spans the whole run, or (zoomed) only the rows in view: in a run
  // of 10,000 task runs, each row is a sliver of the whole.
  const [zoom, setZoom] = useState(false);
  const [lo, hi] = useMemo(() => {
    let a = Infinity;
    let b = -Infinity;
    const first = Math.floor(scrollTop / ROW);
    const shown = zoom ? rows.slice(first, first + Math.ceil(VIEW / ROW) + 1) : all;
    for (const r of shown) {
      for (const s of r.segments) { a = Math.min(a, s.from); b = Math.max(b, s.to); }
    }
    if (!isFinite(a)) return [now - 1000, now];
    return [a, Math.max(b, a + 1)];
  }, [all, rows, now, zoom, zoom ? scrollTop : 0]);
  const [hover, setHover] = useState<{ row: Row; x: number; y: number } | null>(null);
  const height = Math.min(VIEW, rows.length * ROW + AXIS);
  // State histories by task run id, fetched for the rows in view.
  const [histories, setHistories] = useState<Map<string, Segment[]>>(new Map());
  const asked = useRef(new Set<string>());
  useEffect(() => {
    // A new timeline (polling a running flow run): unfinished rows may have new states.
    for (const r of all) if (!FINAL_STATES.has(r.type ?? "")) asked.current.delete(r.id);
  }, [all]);
  useEffect(() => {
    const first = Math.max(0, Math.floor(scrollTop / ROW) - 20);
    const wanted = rows.slice(first, first + Math.ceil(height / ROW) + 60)
      .filter((r) => r.kind === "task" && !asked.current.has(r.id)).map((r) => r.id);
    if (!wanted.length) return;
    // The first rows load at once; while scrolling, once the scroll pauses.
    const timer = setTimeout(() => {
      wanted.forEach((id) => asked.current.add(id));
      api<Record<string, StatePoint[]>>("/ui/task_runs/states", { task_run_ids: wanted })
        .then((found) => setHistories((old) => {
          const next = new Map(old);
          for (const [id, states] of Object.entries(found)) next.set(id, segments(states, now));
          return next;
        }), () => wanted.forEach((id) => asked.current.delete(id)));
    }, asked.current.size ? 80 : 0);
    return () => clearTimeout(timer);
  }, [rows, scrollTop, height, now]);

  useEffect(() => {
    const el = canvas.current;
    const box = scroller.current;
    if (!el || !box) return;
    const width = box.clientWidth;
    const ratio = window.devicePixelRatio || 1;
    el.width = width * ratio;
    el.height = height * ratio;
    el.style.width = `${width}px`;
    el.style.height = `${height}px`;
    const ctx = el.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const plot = width - LABEL - 8;
    const x = (t: number) => LABEL + ((t - lo) / (hi - lo)) * plot;
    ctx.font = "12px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    const first = Math.floor(scrollTop / ROW);
    const last = Math.min(rows.length, first + Math.ceil((height - AXIS) / ROW) + 1);
    for (let i = first; i < last; i++) {
      const row = rows[i];
      const y = AXIS + i * ROW - scrollTop;
      if (i % 2) { ctx.fillStyle = "#f6f7f9"; ctx.fillRect(0, y, width, ROW); }
      ctx.fillStyle = row.kind === "subflow" ? "#5a3fa0" : "#222";
      const label = (row.kind === "subflow" ? "⤷ " : "") + row.name +
        (row.attempts > 1 ? `  ↻ ${row.attempts - 1}` : "");
      ctx.fillText(label.length > 34 ? label.slice(0, 33) + "…" : label, 6, y + ROW / 2);
      for (const s of histories.get(row.id) ?? row.segments) {
        const x0 = x(s.from);
        const w = Math.max(x(s.to) - x0, 2);
        ctx.fillStyle = stateColor(s.type);
        if (s.wait) {
          ctx.globalAlpha = 0.55;
          ctx.fillRect(x0, y + ROW / 2 - 2, w, 4);
          ctx.globalAlpha = 1;
        } else {
          ctx.fillRect(x0, y + 3, w, ROW - 6);
        }
      }
    }
    // The time axis, over the rows.
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, width, AXIS);
    ctx.fillStyle = "#555";
    ctx.strokeStyle = "#ddd";
    for (let k = 0; k <= 4; k++) {
      const t = lo + ((hi - lo) * k) / 4;
      const px = x(t);
      ctx.beginPath(); ctx.moveTo(px, AXIS - 4); ctx.lineTo(px, height); ctx.stroke();
      ctx.textAlign = k === 4 ? "right" : k === 0 ? "left" : "center";
      ctx.fillText(k === 0 ? when(t).slice(11) : `+${duration(t - lo)}`, px, AXIS / 2);
    }
    ctx.textAlign = "left";
  }, [rows, lo, hi, scrollTop, height, histories]);

  const rowAt = (clientY: number): Row | null => {
    const box = scroller.current;
    if (!box) return null;
    const y = clientY - box.getBoundingClientRect().top - AXIS + scrollTop;
    const i = Math.floor(y / ROW);
    return y >= 0 && i < rows.length ? rows[i] : null;
  };

  if (!all.length) {
    return <p class="muted" data-testid="timeline-empty">This run has no task runs
      (its tasks record a task run each when called).</p>;
  }
  return (
    <div class="timeline" data-testid="timeline" data-rows={rows.length}
         data-retried={retried} data-detailed={histories.size}>
      <div class="timeline-tools">
        <input placeholder="find a task run" value={text}
               onInput={(e) => setText(e.currentTarget.value)} />
        <label><input type="checkbox" name="zoom" checked={zoom}
          onChange={(e) => setZoom(e.currentTarget.checked)} /> zoom to the rows in view</label>
        <label><input type="checkbox" checked={onlyRetried}
          onChange={(e) => setOnlyRetried(e.currentTarget.checked)} /> only retried or
          failed</label>
        <span class="muted">{rows.length.toLocaleString()} rows; {retried.toLocaleString()} task
          runs retried{timeline.truncated ? "; only the first 20,000 task runs are shown" : ""}
        </span>
        <span class="legend">
          <i style={{ background: stateColor("COMPLETED") }} /> attempt completed
          <i style={{ background: stateColor("FAILED") }} /> attempt failed
          <i style={{ background: stateColor("RUNNING") }} /> running
          <i class="thin" style={{ background: stateColor("SCHEDULED") }} /> waiting
        </span>
      </div>
      <div class="timeline-scroll" ref={scroller} style={{ height: `${height}px` }}
           onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
           onMouseMove={(e) => {
             const row = rowAt(e.clientY);
             setHover(row ? { row, x: e.offsetX, y: e.clientY } : null);
           }}
           onMouseLeave={() => setHover(null)}
           onClick={(e) => {
             const row = rowAt(e.clientY);
             if (!row) return;
             if (row.kind === "subflow") navigate(`/runs/${row.id}`);
             else props.onSelect?.(row);
           }}>
        <canvas ref={canvas} style={{ position: "sticky", top: 0, display: "block" }} />
        <div style={{ height: `${Math.max(0, rows.length * ROW + AXIS - height)}px` }} />
      </div>
      {hover && <div class="tip">
        <b>{hover.row.name}</b> {hover.row.stateName ?? hover.row.type}
        {hover.row.attempts > 1 ? ` · ${hover.row.attempts} attempts` : ""}
        {hover.row.start !== null && ` · ${duration((hover.row.end ?? now) - hover.row.start)}`}
      </div>}
    </div>
  );
}
