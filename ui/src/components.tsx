// Small shared pieces: links, state badges, empty and error notes, polling.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { AuthError } from "./api";
import { stateColor } from "./format";
import { navigate, setQuery } from "./router";

export function Link(props: { href: string; children: ComponentChildren; class?: string;
                              title?: string }) {
  return (
    <a href={props.href} class={props.class} title={props.title}
       onClick={(e) => {
         if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
         e.preventDefault();
         navigate(props.href);
       }}>
      {props.children}
    </a>
  );
}

export function StateBadge(props: { type: string | null | undefined;
                                    name?: string | null }) {
  const label = props.name || props.type || "no state";
  return (
    <span class="badge" data-state={props.type ?? ""}
          style={{ background: stateColor(props.type) }}>{label}</span>
  );
}

/** What a page shows when there is nothing yet, and the command that makes something. */
export function Empty(props: { what: string; command?: string; hint?: ComponentChildren }) {
  return (
    <div class="empty" data-testid="empty">
      <p>{props.what}</p>
      {props.command && <p>Create one: <code>{props.command}</code></p>}
      {props.hint && <p class="muted">{props.hint}</p>}
    </div>
  );
}

export function ErrorNote(props: { error: unknown }) {
  if (props.error === undefined || props.error === null) return null;
  if (props.error instanceof AuthError) return null; // the key prompt shows instead
  const text = props.error instanceof Error ? props.error.message : String(props.error);
  return <div class="error" role="alert">Could not load: {text}</div>;
}

/**
 * Run `load` now, again whenever `deps` change, and every `everyMs` while the
 * page is visible (0: never). Returns the latest result, the error, and a reload.
 */
export function usePoll<T>(load: () => Promise<T>, deps: unknown[], everyMs = 0): {
  data: T | undefined; error: unknown; loading: boolean; reload: () => void;
} {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const run = () => {
    const mine = ++generation.current;
    loadRef.current().then(
      (value) => {
        if (mine !== generation.current) return; // a newer request won
        setData(value);
        setError(undefined);
        setLoading(false);
      },
      (err) => {
        if (mine !== generation.current) return;
        setError(err);
        setLoading(false);
      },
    );
  };

  useEffect(() => {
    setLoading(true);
    run();
  }, deps);
  useEffect(() => {
    // Separate from the load above: turning polling on or off reloads nothing.
    if (!everyMs) return;
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") run();
    }, everyMs);
    return () => clearInterval(timer);
  }, [...deps, everyMs]);
  return { data, error, loading, reload: run };
}

/** Previous/next buttons of a server-side page (`?page=N` in the address). */
export function Pager(props: { page: number; full: boolean; labels?: [string, string];
                               children?: ComponentChildren }) {
  const [back, forward] = props.labels ?? ["← previous", "next →"];
  return (
    <div class="pager">
      {props.children}
      <button disabled={props.page === 0}
              onClick={() => setQuery({ page: String(props.page - 1) })}>{back}</button>
      <button disabled={!props.full}
              onClick={() => setQuery({ page: String(props.page + 1) })}>{forward}</button>
    </div>
  );
}
