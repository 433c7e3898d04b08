// The run-history chart: each run is a bar from its start to its end, packed into
// lanes so runs that overlap in time (or start at the same moment) never hide each
// other: the chart grows a lane for each run running at once.
import type { HistoryRow } from "../api";
import { stateColor, when, duration } from "../format";
import { navigate } from "../router";

interface Bar {
  row: HistoryRow;
  start: number;
  end: number;
  lane: number;
}

const WIDTH = 1000;

/** Greedy interval packing (runs sorted by start): the first lane free at `start`. */
export function packLanes(rows: HistoryRow[], now: number, minSpan: number): {
  bars: Bar[]; lanes: number;
} {
  const items = rows
    .map((row) => {
      const start = row[6] ?? row[5] ?? now;
      const end = Math.max(row[7] ?? (row[6] !== null ? now : start), start);
      return { row, start, end };
    })
    .sort((a, b) => a.start - b.start || a.end - b.end);
  const laneEnds: number[] = [];
  const bars: Bar[] = [];
  for (const item of items) {
    const shownEnd = Math.max(item.end, item.start + minSpan);
    let lane = laneEnds.findIndex((end) => end <= item.start);
    if (lane < 0) {
      lane = laneEnds.length;
      laneEnds.push(shownEnd);
    } else {
      laneEnds[lane] = shownEnd;
    }
    bars.push({ ...item, lane });
  }
  return { bars, lanes: laneEnds.length };
}

export function HistoryChart(props: { rows: HistoryRow[]; now: number }) {
  const { rows, now } = props;
  if (!rows.length) return null;
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rows) {
    const start = r[6] ?? r[5] ?? now;
    lo = Math.min(lo, start);
    hi = Math.max(hi, r[7] ?? (r[6] !== null ? now : start));
  }
  const span = Math.max(hi - lo, 1000);
  lo -= span * 0.01;
  hi += span * 0.01;
  const scale = WIDTH / (hi - lo);
  const { bars, lanes } = packLanes(rows, now, 3 / scale);
  const laneHeight = Math.max(2, Math.min(12, Math.floor(180 / lanes)));
  const height = lanes * laneHeight + 18;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => lo + (hi - lo) * f);
  return (
    <figure class="history" data-testid="history-chart" data-lanes={lanes}>
      <svg viewBox={`0 0 ${WIDTH} ${height}`} preserveAspectRatio="none"
           style={{ height: `${height}px` }} role="img"
           aria-label={`${rows.length} runs; at most ${lanes} at once`}>
        {bars.map((b) => (
          <rect key={b.row[0]} class="bar" data-state={b.row[3] ?? ""}
                x={(b.start - lo) * scale} y={b.lane * laneHeight}
                width={Math.max((b.end - b.start) * scale, 3)}
                height={Math.max(laneHeight - 1, 1.5)} fill={stateColor(b.row[3])}
                onClick={() => navigate(`/runs/${b.row[0]}`)}>
            <title>{`${b.row[1]} — ${b.row[4] ?? b.row[3] ?? "no state"}\n` +
                    `start ${when(b.start)}, ${duration(b.end - b.start)}`}</title>
          </rect>
        ))}
      </svg>
      <figcaption>
        <span class="ticks">{ticks.map((t, i) => <span key={t}>
          {i === 0 || hi - lo > 3600e3 ? when(t) : `+${duration(t - lo)}`}</span>)}</span>
        <span class="muted">{rows.length.toLocaleString()} most recent matching runs;
          at most {lanes} at once (one lane each, so runs that start together all show)</span>
      </figcaption>
    </figure>
  );
}
